// The topology around an incident as inline SVG: its alerting services, the ranked
// candidates, what they call (a few hops) and who calls them (one hop); callers above
// callees, in layers, the suspected root cause marked.

const W = 124; // node box
const H = 38;
const GAP_X = 18;
const GAP_Y = 46;
const MAX_NODES = 40;

/** Names of the services to draw, and the calls among them. */
export function subgraph(topology, focus, hops = 3) {
  const calls = new Map(topology.services.map((s) => [s.name, s.dependsOn]));
  const callers = new Map();
  for (const s of topology.services) for (const d of s.dependsOn) callers.set(d, [...(callers.get(d) ?? []), s.name]);
  const keep = new Set(focus.filter((f) => calls.has(f) || callers.has(f)));
  let frontier = [...keep];
  for (let hop = 0; hop < hops && frontier.length > 0 && keep.size < MAX_NODES; hop++) {
    const nextFrontier = [];
    for (const n of frontier) for (const d of calls.get(n) ?? []) if (!keep.has(d) && keep.size < MAX_NODES) { keep.add(d); nextFrontier.push(d); }
    frontier = nextFrontier;
  }
  for (const f of focus) for (const c of callers.get(f) ?? []) if (keep.size < MAX_NODES) keep.add(c);
  const edges = [];
  for (const n of keep) for (const d of calls.get(n) ?? []) if (keep.has(d)) edges.push([n, d]);
  return { nodes: [...keep].sort(), edges };
}

/** Layer = longest chain of callers above (a call that closes a cycle is not followed); x by callers' mean position. */
export function layout(nodes, edges) {
  const up = new Map(nodes.map((n) => [n, []]));
  for (const [from, to] of edges) up.get(to).push(from);
  const layer = new Map();
  const onStack = new Set();
  const depth = (n) => {
    if (layer.has(n)) return layer.get(n);
    onStack.add(n);
    let d = 0;
    for (const c of up.get(n)) if (!onStack.has(c)) d = Math.max(d, depth(c) + 1);
    onStack.delete(n);
    layer.set(n, d);
    return d;
  };
  nodes.forEach(depth);
  const layers = [];
  for (const n of nodes) (layers[layer.get(n)] ??= []).push(n);
  const x = new Map();
  const width = Math.max(...layers.map((l) => l?.length ?? 0)) * (W + GAP_X);
  const pos = new Map();
  layers.forEach((members = [], i) => {
    const mean = (n) => {
      const xs = up.get(n).filter((c) => x.has(c)).map((c) => x.get(c));
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : width / 2;
    };
    members.sort((a, b) => mean(a) - mean(b) || a.localeCompare(b));
    const left = (width - members.length * (W + GAP_X)) / 2;
    members.forEach((n, j) => {
      const cx = left + j * (W + GAP_X) + (W + GAP_X) / 2;
      x.set(n, cx);
      pos.set(n, { x: cx, y: i * (H + GAP_Y) + H / 2 + 4 });
    });
  });
  return { pos, width, height: layers.length * (H + GAP_Y) - GAP_Y + 8 };
}

/** SVG text; `role(name)` is 'root', 'alerting' or '', `tag(name)` the small line under the name. */
export function graphSvg(topology, { focus, role, tag, esc }) {
  const { nodes, edges } = subgraph(topology, focus);
  if (nodes.length === 0) return '';
  const { pos, width, height } = layout(nodes, edges);
  const edge = ([from, to]) => {
    const a = pos.get(from);
    const b = pos.get(to);
    const down = b.y > a.y;
    const y1 = a.y + (down ? H / 2 : -H / 2);
    const y2 = b.y + (down ? -H / 2 - 3 : H / 2 + 3);
    const bend = down ? GAP_Y / 2 : -GAP_Y;
    return `<path class="edge" data-from="${esc(from)}" data-to="${esc(to)}" d="M${a.x},${y1} C${a.x},${y1 + bend} ${b.x},${y2 - bend} ${b.x},${y2}" marker-end="url(#arrow)"/>`;
  };
  const node = (n) => {
    const p = pos.get(n);
    const r = role(n);
    const label = n.length > 16 ? `${n.slice(0, 15)}…` : n;
    return `<g class="node ${r}" data-service="${esc(n)}" data-role="${r || 'other'}" transform="translate(${p.x - W / 2},${p.y - H / 2})">
      <title>${esc(n)}</title><rect width="${W}" height="${H}" rx="6"/>
      <text x="${W / 2}" y="${tag(n) ? 13 : H / 2}">${esc(label)}</text>
      ${tag(n) ? `<text class="tag" x="${W / 2}" y="28">${esc(tag(n))}</text>` : ''}</g>`;
  };
  // never drawn larger than 1.25x: a small graph stays readable text, not posters
  return `<svg viewBox="0 0 ${width} ${height}" style="max-width:${Math.round(width * 1.25)}px;margin:0 auto" role="img" aria-label="service topology around the incident">
    <defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" fill="#5b6773"/></marker></defs>
    ${edges.map(edge).join('')}${nodes.map(node).join('')}</svg>`;
}
