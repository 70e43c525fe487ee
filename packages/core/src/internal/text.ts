/** @internal Whether `text` is well-formed UTF-16: every surrogate is half of a pair. */
export const isWellFormed = (text: string): boolean => {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit < 0xd800 || unit > 0xdfff) continue
    if (unit > 0xdbff) return false
    const low = text.charCodeAt(i + 1)
    if (!(low >= 0xdc00 && low <= 0xdfff)) return false
    i++
  }
  return true
}

/** @internal The index of the first NUL or lone surrogate in `text`, or -1. */
export const firstUnsafe = (text: string): number => {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit === 0) return i
    if (unit < 0xd800 || unit > 0xdfff) continue
    if (unit > 0xdbff) return i
    const low = text.charCodeAt(i + 1)
    if (!(low >= 0xdc00 && low <= 0xdfff)) return i
    i++
  }
  return -1
}
