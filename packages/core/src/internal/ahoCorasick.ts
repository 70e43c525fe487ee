/**
 * @internal A multi-pattern matcher over UTF-16 code units (Aho–Corasick): built in time linear
 * in the patterns' total length, it finds in one pass, in time linear in the text, the longest
 * pattern ending at each position. No regular expression, no backtracking.
 */
export interface Matcher {
  /** The covered ranges of `text`, `[start, end)`, merged where they overlap or touch. */
  readonly cover: (text: string) => ReadonlyArray<readonly [number, number]>
}

/** @internal Builds a matcher of the given patterns (empty patterns are ignored). */
export const make = (patterns: Iterable<string>): Matcher => {
  const next: Array<Map<number, number>> = [new Map()]
  const depth: Array<number> = [0]
  const longest: Array<number> = [0]
  for (const pattern of patterns) {
    if (pattern.length === 0) continue
    let node = 0
    for (let i = 0; i < pattern.length; i++) {
      const unit = pattern.charCodeAt(i)
      let child = next[node]!.get(unit)
      if (child === undefined) {
        child = next.length
        next.push(new Map())
        depth.push(depth[node]! + 1)
        longest.push(0)
        next[node]!.set(unit, child)
      }
      node = child
    }
    longest[node] = pattern.length
  }

  const fail = new Array<number>(next.length).fill(0)
  const queue: Array<number> = []
  for (const child of next[0]!.values()) queue.push(child)
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!
    // The longest match ending here is this node's own pattern or its failure node's longest.
    if (longest[node] === 0) longest[node] = longest[fail[node]]!
    for (const [unit, child] of next[node]!) {
      let f = fail[node]!
      while (f !== 0 && !next[f]!.has(unit)) f = fail[f]!
      const target = next[f]!.get(unit)
      fail[child] = target !== undefined && target !== child ? target : 0
      queue.push(child)
    }
  }

  return {
    cover: (text) => {
      const ranges: Array<[number, number]> = []
      let node = 0
      for (let i = 0; i < text.length; i++) {
        const unit = text.charCodeAt(i)
        while (node !== 0 && !next[node]!.has(unit)) node = fail[node]!
        node = next[node]!.get(unit) ?? 0
        const length = longest[node]!
        if (length === 0) continue
        const start = i + 1 - length
        // Ends only grow, so a new range can only swallow or join the ranges at the top.
        while (ranges.length > 0 && ranges[ranges.length - 1]![0] >= start) ranges.pop()
        const last = ranges[ranges.length - 1]
        if (last !== undefined && last[1] >= start) last[1] = i + 1
        else ranges.push([start, i + 1])
      }
      return ranges
    }
  }
}
