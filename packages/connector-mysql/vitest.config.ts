import { mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

export default mergeConfig(shared, {
  // One throwaway MariaDB server for the run; tests read its URL with inject("mariadbUrl").
  test: { globalSetup: ["./test/globalSetup.ts"], hookTimeout: 120_000 }
})
