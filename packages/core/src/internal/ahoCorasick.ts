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
  // One map of edges keyed by node and code unit keeps memory near one entry per trie node.
  const edges = new Map<number, number>()
  const edge = (node: number, unit: number) => edges.get(node * 65536 + unit)
  const children: Array<Array<number>> = [[]]
  const longest: Array<number> = [0]
  for (const pattern of patterns) {
    if (pattern.length === 0) continue
    let node = 0
    for (let i = 0; i < pattern.length; i++) {
      const unit = pattern.charCodeAt(i)
      let child = edge(node, unit)
      if (child === undefined) {
        child = longest.length
        longest.push(0)
        children.push([])
        edges.set(node * 65536 + unit, child)
        children[node]!.push(unit)
      }
      node = child
    }
    longest[node] = pattern.length
  }

  const fail = new Array<number>(longest.length).fill(0)
  const queue: Array<number> = []
  for (const unit of children[0]!) queue.push(edge(0, unit)!)
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!
    // The longest match ending here is this node's own pattern or its failure node's longest.
    if (longest[node] === 0) longest[node] = longest[fail[node]]!
    for (const unit of children[node]!) {
      const child = edge(node, unit)!
      let f = fail[node]!
      while (f !== 0 && edge(f, unit) === undefined) f = fail[f]!
      const target = edge(f, unit)
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
        let next = edge(node, unit)
        while (next === undefined && node !== 0) {
          node = fail[node]!
          next = edge(node, unit)
        }
        node = next ?? 0
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
