/** Accounting. */
import type { Entry } from "../../Catalog.js"
import { checked, oauth2Server } from "./common.js"

export const accounting: ReadonlyArray<Entry> = [
  {
    id: "4b32ae0f-8f7b-4113-a92a-0b4518bb90e0",
    key: "quickbooks",
    name: "QuickBooks Online",
    category: "accounting",
    description: "Invoices, customers and accounts of a QuickBooks Online company (the base URL names the realm id).",
    auth: ["oauth2_authorization_code"],
    testEndpoint: { method: "GET", path: "/preferences", expectStatus: 200 },
    identity: {
      method: "GET",
      endpoint: "https://accounts.platform.intuit.com/v1/openid_connect/userinfo",
      accountId: "sub"
    },
    oauth2: oauth2Server(
      {
        issuer: "https://oauth.platform.intuit.com/op/v1",
        authorize: "https://appcenter.intuit.com/connect/oauth2",
        token: "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
        revoke: "https://developer.api.intuit.com/v2/oauth2/tokens/revoke",
        userinfo: "https://accounts.platform.intuit.com/v1/openid_connect/userinfo"
      },
      ["com.intuit.quickbooks.accounting", "openid", "email"]
    ),
    fields: {
      base_url: {
        title: "Company API URL",
        description: "https://quickbooks.api.intuit.com/v3/company/ followed by the realm id.",
        example: "https://quickbooks.api.intuit.com/v3/company/9130347596457116",
        pattern: "^https://(sandbox-)?quickbooks\\.api\\.intuit\\.com/v3/company/[0-9]+$",
        secret: false
      }
    },
    refreshToken: {
      seconds: 100 * 24 * 3600,
      note: "Refresh tokens die after 100 days unused (rolling) and, since 2025, at most 5 years after issue (both from Intuit's Java and .NET SDK release notes)"
    },
    checked: checked(
      "https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-openid-discovery-doc",
      "issuer https://oauth.platform.intuit.com/op/v1, authorize appcenter.intuit.com/connect/oauth2 and token oauth.platform.intuit.com/oauth2/v1/tokens/bearer (Intuit's discovery document page), one-hour access tokens (Intuit's OAuth FAQ) and the 100-day rolling refresh-token life with its new 5-year hard limit (release notes of Intuit's own Java and .NET SDKs in the intuit GitHub org) checked; the userinfo URL accounts.platform.intuit.com/v1/openid_connect/userinfo and the revoke URL developer.api.intuit.com/v2/oauth2/tokens/revoke only from third-party code (the stored copy of Intuit's discovery page names a userinfo host that reads accounts.intuit.com, cut off); the com.intuit.quickbooks.accounting scope only from third-party pages; the quickbooks.api.intuit.com/v3/company/<realm id> URL form only from third-party clients; the test request moved from GET /companyinfo/1 (third-party clients read CompanyInfo by the realm id, which a fixed path cannot name) to GET /preferences (read without an id), which is only from third-party SDKs; Intuit's own API reference NOT retrieved"
    )
  },
  {
    id: "3b490fef-ca27-46d4-ab6a-ed2d16ec3b4e",
    key: "xero",
    name: "Xero",
    category: "accounting",
    description:
      "Invoices and contacts of a Xero organisation (requests name the tenant in the xero-tenant-id header).",
    auth: ["oauth2_authorization_code"],
    baseUrl: "https://api.xero.com",
    testEndpoint: { method: "GET", path: "/connections", expectStatus: 200 },
    identity: { method: "GET", endpoint: "https://identity.xero.com/connect/userinfo", accountId: "xero_userid" },
    oauth2: oauth2Server(
      {
        issuer: "https://identity.xero.com",
        authorize: "https://login.xero.com/identity/connect/authorize",
        token: "https://identity.xero.com/connect/token",
        revoke: "https://identity.xero.com/connect/revocation",
        userinfo: "https://identity.xero.com/connect/userinfo"
      },
      ["openid", "email", "offline_access", "accounting.transactions"],
      { pkce: true }
    ),
    fields: {},
    rateLimitHeaders: { remaining: "X-DayLimit-Remaining", retryAfter: "Retry-After" },
    refreshToken: {
      seconds: 60 * 24 * 3600,
      note: "Unused refresh tokens expire after 60 days; every refresh returns a new one, and the old one can be retried for 30 minutes if the response is lost"
    },
    checked: checked(
      "https://developer.xero.com/faq/oauth2",
      "the 60-day expiry of unused refresh tokens (replacing an older 30-day statement by Xero staff on its forum), the 30-minute retry grace, 30-minute access tokens and PKCE support (Xero's OAuth 2.0 FAQ) checked; authorize, token and scopes only from pages quoting Xero's docs; GET https://api.xero.com/connections answering tenantId per organisation only from a model generated from Xero's identity OpenAPI and third-party guides; a revocation endpoint exists (Xero's own SDK release notes) but the connect/revocation URL and the userinfo URL with xero_userid NOT checked; X-DayLimit-Remaining (also X-MinLimit-Remaining and X-AppMinLimit-Remaining; 60 calls a minute and 5,000 a day per tenant) and Retry-After only from third-party pages citing Xero's limits page"
    )
  }
]
