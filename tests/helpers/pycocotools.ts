// Test oracle: a faithful TypeScript port of pycocotools' C mask API (common/maskApi.c in
// cocodataset/cocoapi, as shipped by the `pycocotools` package): rleFrPoly (polygon to RLE
// with 5x upsampling and its exact rounding), rleMerge (union/intersection) and rleIou.
// It deliberately shares no code with src-main/core/segment/rle.ts, so exports are checked
// against how COCO tools will actually read them.

export interface CocoRle {
  h: number
  w: number
  cnts: number[]
}

/** C's (int) cast of a double: truncation toward zero. */
const toInt = (v: number): number => Math.trunc(v)

/** pycocotools rleFrPoly for one polygon xy = [x0, y0, x1, y1, ...] (k = xy.length / 2 points). */
export function frPoly(xy: readonly number[], h: number, w: number): CocoRle {
  const k = xy.length >> 1
  const scale = 5
  const x: number[] = new Array(k + 1)
  const y: number[] = new Array(k + 1)
  for (let j = 0; j < k; j++) x[j] = toInt(scale * xy[j * 2] + 0.5)
  x[k] = x[0]
  for (let j = 0; j < k; j++) y[j] = toInt(scale * xy[j * 2 + 1] + 0.5)
  y[k] = y[0]
  const u: number[] = []
  const v: number[] = []
  for (let j = 0; j < k; j++) {
    let xs = x[j],
      xe = x[j + 1],
      ys = y[j],
      ye = y[j + 1]
    const dx = Math.abs(xe - xs),
      dy = Math.abs(ys - ye)
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye)
    if (flip) {
      let t = xs
      xs = xe
      xe = t
      t = ys
      ys = ye
      ye = t
    }
    const s = dx >= dy ? (ye - ys) / dx : (xe - xs) / dy
    if (dx >= dy) {
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d
        u.push(t + xs)
        v.push(toInt(ys + s * t + 0.5))
      }
    } else {
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d
        v.push(t + ys)
        u.push(toInt(xs + s * t + 0.5))
      }
    }
  }
  // Points along the y-boundary, downsampled.
  const bx: number[] = []
  const by: number[] = []
  for (let j = 1; j < u.length; j++) {
    if (u[j] === u[j - 1]) continue
    let xd = u[j] < u[j - 1] ? u[j] : u[j] - 1
    xd = (xd + 0.5) / scale - 0.5
    if (Math.floor(xd) !== xd || xd < 0 || xd > w - 1) continue
    let yd = v[j] < v[j - 1] ? v[j] : v[j - 1]
    yd = (yd + 0.5) / scale - 0.5
    if (yd < 0) yd = 0
    else if (yd > h) yd = h
    yd = Math.ceil(yd)
    bx.push(toInt(xd))
    by.push(toInt(yd))
  }
  // RLE from the y-boundary points (uint arithmetic: all values are non-negative here).
  const a: number[] = bx.map((xx, j) => xx * h + by[j])
  a.push(h * w)
  a.sort((p, q) => p - q)
  let p = 0
  for (let j = 0; j < a.length; j++) {
    const t = a[j]
    a[j] -= p
    p = t
  }
  const b: number[] = []
  let j = 0
  b.push(a[j++])
  while (j < a.length) {
    if (a[j] > 0) b.push(a[j++])
    else {
      j++
      if (j < a.length) b[b.length - 1] += a[j++]
    }
  }
  return { h, w, cnts: b }
}

/** pycocotools rleMerge: union (default) or intersection of RLEs of the same size. */
export function merge(rles: readonly CocoRle[], intersect = false): CocoRle {
  if (rles.length === 0) return { h: 0, w: 0, cnts: [] }
  let { h, w } = rles[0]
  let cnts = rles[0].cnts.slice()
  if (rles.length === 1) return { h, w, cnts }
  for (let i = 1; i < rles.length; i++) {
    const B = rles[i]
    if (B.h !== h || B.w !== w) {
      h = w = 0
      cnts = []
      break
    }
    const A = cnts
    const out: number[] = []
    let ca = A[0],
      cb = B.cnts[0]
    let v = 0,
      va = 0,
      vb = 0
    let a = 1,
      b = 1,
      cc = 0,
      ct = 1
    while (ct > 0) {
      const c = Math.min(ca, cb)
      cc += c
      ct = 0
      ca -= c
      if (!ca && a < A.length) {
        ca = A[a++]
        va = va ? 0 : 1
      }
      ct += ca
      cb -= c
      if (!cb && b < B.cnts.length) {
        cb = B.cnts[b++]
        vb = vb ? 0 : 1
      }
      ct += cb
      const vp = v
      v = intersect ? (va && vb ? 1 : 0) : va || vb ? 1 : 0
      if (v !== vp || ct === 0) {
        out.push(cc)
        cc = 0
      }
    }
    cnts = out
  }
  return { h, w, cnts }
}

/** pycocotools frPyObjects + merge for one annotation's polygon list (COCO's annToRLE). */
export function frPolygons(polygons: readonly (readonly number[])[], h: number, w: number): CocoRle {
  return merge(polygons.map((p) => frPoly(p, h, w)))
}

/** pycocotools rleArea. */
export function area(r: CocoRle): number {
  let s = 0
  for (let j = 1; j < r.cnts.length; j += 2) s += r.cnts[j]
  return s
}

/** pycocotools rleToBbox (the pycocotools 2.x version), used by rleIou's early bbox test. */
export function toBbox(r: CocoRle): [number, number, number, number] {
  const { h, w } = r
  const m = Math.floor(r.cnts.length / 2) * 2
  if (m === 0) return [0, 0, 0, 0]
  let xs = w,
    ys = h,
    xe = 0,
    ye = 0,
    cc = 0
  for (let j = 0; j < m; j++) {
    const start = cc
    cc += r.cnts[j]
    if (j % 2 === 0 || r.cnts[j] === 0) continue
    const y0 = start % h,
      x0 = (start - y0) / h
    const y1 = (cc - 1) % h,
      x1 = (cc - 1 - y1) / h
    xs = Math.min(xs, x0)
    xe = Math.max(xe, x1)
    if (x0 < x1) {
      ys = 0
      ye = h - 1
    } else {
      ys = Math.min(ys, y0)
      ye = Math.max(ye, y1)
    }
  }
  return [xs, ys, xe - xs + 1, ye - ys + 1]
}

/** pycocotools rleIou for one detection against one non-crowd ground truth. */
export function iou(dt: CocoRle, gt: CocoRle): number {
  const db = toBbox(dt),
    gb = toBbox(gt)
  const bw = Math.min(db[2] + db[0], gb[2] + gb[0]) - Math.max(db[0], gb[0])
  const bh = Math.min(db[3] + db[1], gb[3] + gb[1]) - Math.max(db[1], gb[1])
  if (bw <= 0 || bh <= 0) return 0
  if (dt.h !== gt.h || dt.w !== gt.w) return -1
  let ca = dt.cnts[0],
    cb = gt.cnts[0]
  let va = 0,
    vb = 0,
    a = 1,
    b = 1,
    inter = 0,
    uni = 0,
    ct = 1
  while (ct > 0) {
    const c = Math.min(ca, cb)
    if (va || vb) {
      uni += c
      if (va && vb) inter += c
    }
    ct = 0
    ca -= c
    if (!ca && a < dt.cnts.length) {
      ca = dt.cnts[a++]
      va = va ? 0 : 1
    }
    ct += ca
    cb -= c
    if (!cb && b < gt.cnts.length) {
      cb = gt.cnts[b++]
      vb = vb ? 0 : 1
    }
    ct += cb
  }
  if (inter === 0) uni = 1
  return inter / uni
}
