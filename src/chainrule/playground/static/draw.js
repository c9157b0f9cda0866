// Drawing only: every value comes from the server's frames (chainrule computes them).
"use strict";
const ORANGE = [245, 147, 34], BLUE = [8, 119, 189], WHITE = [255, 255, 255];
const PALETTE = [ORANGE, BLUE, [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75]];

function b64bytes(text) {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}
function mix(a, b, t) {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}
// -1 .. 1 (a byte 0..255) to orange .. white .. blue, as TensorFlow Playground colours
function diverging(byte, discrete) {
  let v = byte / 127.5 - 1;
  if (discrete) v = v >= 0 ? 1 : -1;
  return v < 0 ? mix(WHITE, ORANGE, -v * 0.85) : mix(WHITE, BLUE, v * 0.85);
}
function paint(canvas, size, colourAt) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    const c = colourAt(i);
    image.data[4 * i] = c[0]; image.data[4 * i + 1] = c[1]; image.data[4 * i + 2] = c[2];
    image.data[4 * i + 3] = 255;
  }
  if (canvas.width !== size) { canvas.width = size; canvas.height = size; }
  ctx.putImageData(image, 0, 0);
}
function boundaryColours(boundary, discrete) {
  const data = b64bytes(boundary.data);
  if (boundary.kind === "classes") {
    const conf = b64bytes(boundary.confidence);
    return (i) => mix(WHITE, PALETTE[data[i] % PALETTE.length], discrete ? 0.6 : 0.15 + 0.6 * conf[i] / 255);
  }
  return (i) => diverging(data[i], discrete);
}
function drawBoundary(canvas, state, frame) {
  const grid = state.data.grid;
  const off = state.offscreen || (state.offscreen = document.createElement("canvas"));
  paint(off, grid, boundaryColours(frame.boundary, state.discretize));
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = !state.discretize;
  ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
  drawPoints(canvas, state);
}
function toPixel(canvas, box, x, y) {
  return [(x - box[0]) / (box[1] - box[0]) * canvas.width,
          (box[3] - y) / (box[3] - box[2]) * canvas.height];
}
function toData(canvas, box, px, py) {
  return [box[0] + px / canvas.width * (box[1] - box[0]),
          box[3] - py / canvas.height * (box[3] - box[2])];
}
function pointColour(state, label) {
  if (state.data.regression) {
    const scale = Math.max(...state.data.labels.map(Math.abs), 1e-9);
    return diverging(Math.round((label / scale + 1) * 127.5), false).map((v) => v * 0.85);
  }
  return PALETTE[label % PALETTE.length];
}
function drawPoints(canvas, state) {
  const ctx = canvas.getContext("2d");
  const d = state.data;
  for (let i = 0; i < d.points.length; i++) {
    const test = d.test[i] === 1;
    if (test && !state.showTest) continue;
    const [px, py] = toPixel(canvas, d.box, d.points[i][0], d.points[i][1]);
    const c = pointColour(state, d.labels[i]);
    ctx.beginPath();
    ctx.arc(px, py, 4, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${c[0]},${c[1]},${c[2]})`;
    ctx.fill();
    ctx.lineWidth = 1;
    ctx.strokeStyle = test ? "#000" : "#fff";
    ctx.stroke();
  }
  if (state.explained !== null && state.explained < d.points.length) {
    const [px, py] = toPixel(canvas, d.box, ...d.points[state.explained]);
    ctx.beginPath(); ctx.arc(px, py, 8, 0, 2 * Math.PI);
    ctx.lineWidth = 2; ctx.strokeStyle = "#111"; ctx.stroke();
  }
}
function drawTile(canvas, bytes, offset, size, discrete) {
  paint(canvas, size, (i) => diverging(bytes[offset + i], discrete));
}
function drawCurve(canvas, curve) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!curve.length) return;
  let top = 0;
  for (const row of curve) for (const v of row.slice(1)) if (v !== null) top = Math.max(top, v);
  top = top || 1;
  document.getElementById("curve-top").textContent = t("loss_top", { value: top.toFixed(3) });
  const last = curve[curve.length - 1][0] || 1, first = curve[0][0];
  const x = (e) => (e - first) / Math.max(last - first, 1e-9) * (canvas.width - 4) + 2;
  const y = (v) => canvas.height - 2 - v / top * (canvas.height - 6);
  for (const [col, colour, width] of [[1, "#999", 1], [2, "#111", 1.5]]) {
    ctx.beginPath();
    let started = false;
    for (const row of curve) {
      if (row[col] === null) continue;
      if (!started) { ctx.moveTo(x(row[0]), y(row[col])); started = true; }
      else ctx.lineTo(x(row[0]), y(row[col]));
    }
    ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.stroke();
  }
}
function drawGradFlow(canvas, norms) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const finite = norms.filter((v) => v !== null && v > 0);
  if (!finite.length) return;
  const logs = norms.map((v) => (v !== null && v > 0 ? Math.log10(v) : null));
  const low = Math.min(...logs.filter((v) => v !== null), -1) - 0.5;
  const high = Math.max(...logs.filter((v) => v !== null), 0) + 0.2;
  const w = (canvas.width - 40) / norms.length;
  ctx.font = "10px sans-serif";
  ctx.fillStyle = "#666";
  for (let k = Math.ceil(low); k <= Math.floor(high); k++) {
    const yk = canvas.height - 14 - (k - low) / (high - low) * (canvas.height - 22);
    ctx.fillText("1e" + k, 0, yk + 3);
    ctx.fillRect(30, yk, canvas.width - 30, 0.3);
  }
  logs.forEach((v, i) => {
    if (v === null) return;
    const h = (v - low) / (high - low) * (canvas.height - 22);
    ctx.fillStyle = i === logs.length - 1 ? "#888" : "#183d4e";
    ctx.fillRect(36 + i * w, canvas.height - 14 - h, w * 0.7, h);
    ctx.fillStyle = "#444";
    ctx.fillText(i === logs.length - 1 ? "out" : "W" + (i + 1), 36 + i * w, canvas.height - 2);
  });
}
function drawWires(svg, network, columns, weights) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const origin = network.getBoundingClientRect();
  svg.setAttribute("width", origin.width); svg.setAttribute("height", origin.height);
  for (let layer = 0; layer < weights.length; layer++) {
    const from = columns[layer], to = columns[layer + 1];
    if (!from || !to) continue;
    const W = weights[layer];
    let peak = 1e-9;
    for (const row of W) for (const v of row) peak = Math.max(peak, Math.abs(v));
    W.forEach((row, j) => row.forEach((v, i) => {
      const a = from[i] && from[i].getBoundingClientRect(), b = to[j] && to[j].getBoundingClientRect();
      if (!a || !b) return;
      const line = document.createElementNS("http://www.w3.org/2000/svg", "line");
      line.setAttribute("x1", a.right - origin.left); line.setAttribute("y1", a.top + a.height / 2 - origin.top);
      line.setAttribute("x2", b.left - origin.left); line.setAttribute("y2", b.top + b.height / 2 - origin.top);
      const c = v < 0 ? ORANGE : BLUE;
      line.setAttribute("stroke", `rgb(${c[0]},${c[1]},${c[2]})`);
      line.setAttribute("stroke-width", (0.3 + 3.5 * Math.abs(v) / peak).toFixed(2));
      line.setAttribute("stroke-opacity", "0.7");
      svg.appendChild(line);
    }));
  }
}
