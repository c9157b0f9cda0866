// The page's state, its controls and its WebSocket to the chainrule server.
"use strict";
const CLASSIFICATION_SETS = ["circles", "xor", "gaussians", "spiral", "moons"];
const REGRESSION_SETS = ["plane", "multigauss"];
const FEATURE_NAMES = ["x", "y", "x2", "y2", "xy", "sinx", "siny"];
const FEATURE_LABELS = { x: "x\u2081", y: "x\u2082", x2: "x\u2081\u00b2", y2: "x\u2082\u00b2",
  xy: "x\u2081x\u2082", sinx: "sin(x\u2081)", siny: "sin(x\u2082)" };
const CHOICES = {
  lr: [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10],
  activation: ["sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "gelu", "softplus", "maxout", "linear"],
  loss: ["cross_entropy", "mse"], optimizer: ["sgd", "momentum", "adam"],
  regularization: ["none", "l1", "l2"], reg_rate: [0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10],
  dropout: [0, 0.1, 0.2, 0.3, 0.5], input_noise: [0, 0.05, 0.1, 0.2, 0.5],
  problem: ["classification", "regression"],
};
const WORDS = new Set(["activation", "loss", "optimizer", "regularization", "problem"]);
const LIST_KEYS = new Set(["features", "hidden"]);
const TEXT_KEYS = new Set(["problem", "data", "activation", "loss", "optimizer", "regularization"]);
const MAX_LAYERS = 8, MAX_NEURONS = 32;

const state = { setup: null, data: null, frame: null, showTest: false, discretize: false,
  explained: null, clickMode: "explain", ws: null, playing: false, columns: [],
  messageTimer: null, lastWires: 0, connected: false };
window.playground = state;  // for the browser tests and the curious
const $ = (id) => document.getElementById(id);

// ---- the URL holds the setup --------------------------------------------------------
function encodeHash(setup) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(setup)) {
    if (key === "added") {
      if (value.length) params.set(key, value.map((p) => p.map((v) => +v.toFixed(4)).join(":")).join(";"));
    } else params.set(key, Array.isArray(value) ? value.join(",") : String(value));
  }
  params.set("lang", LANG);
  return "#" + params.toString();
}
function decodeHash(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const setup = {};
  for (const [key, text] of params) {
    if (key === "lang") continue;
    if (key === "added") setup.added = text ? text.split(";").map((p) => p.split(":").map(Number)) : [];
    else if (LIST_KEYS.has(key)) setup[key] = text === "" ? [] : text.split(",").map((v) => (key === "hidden" ? Number(v) : v));
    else if (TEXT_KEYS.has(key)) setup[key] = text;
    else setup[key] = Number(text);
  }
  return Object.keys(setup).length ? setup : null;
}
function languageOfHash() {
  const lang = new URLSearchParams(location.hash.replace(/^#/, "")).get("lang");
  return lang === "zh" || lang === "en" ? lang : (navigator.language || "").startsWith("zh") ? "zh" : "en";
}

// ---- talking to the server ------------------------------------------------------------
function send(message) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
}
function changeSetup(changes) {
  if (!state.setup) return;
  send({ type: "setup", setup: Object.assign({}, state.setup, changes) });
}
function connect() {
  const ws = new WebSocket(`ws://${location.host}/ws`);
  state.ws = ws;
  ws.onopen = () => {
    state.connected = true;
    hideMessage();
    send({ type: "hello", setup: state.setup || decodeHash(location.hash) });
  };
  ws.onmessage = (event) => receive(JSON.parse(event.data));
  ws.onclose = () => {
    state.connected = false;
    if (state.closedForGood) return;
    showMessage(t("lost"), "info");
    setTimeout(connect, 1000);
  };
}
function receive(message) {
  if (message.type === "frame") onFrame(message);
  else if (message.type === "data") onData(message);
  else if (message.type === "setup") onSetup(message.setup);
  else if (message.type === "error") {
    showMessage(t("error") + ": " + message.text);
    if (state.data) renderControls();  // the controls show the setup the server kept
  }
  else if (message.type === "explain") onExplain(message);
  else if (message.type === "exported") showMessage(t("exported") + " " + message.path, "info");
  else if (message.type === "closed") { state.closedForGood = true; showMessage(message.text); }
}
function showMessage(text, kind) {
  const box = $("message");
  box.textContent = text;
  box.className = kind || "";
  box.hidden = false;
  clearTimeout(state.messageTimer);
  state.messageTimer = setTimeout(hideMessage, 12000);
}
function hideMessage() { $("message").hidden = true; }

// ---- data and structure ----------------------------------------------------------------
function onData(message) {
  state.data = message;
  state.setup = message.setup;
  state.explained = null;
  $("explain-panel").hidden = true;
  history.replaceState(null, "", encodeHash(state.setup));
  renderControls();
  buildNetwork();
}
function onSetup(setup) {  // a change the server made in place (learning rate, ...)
  state.setup = setup;
  history.replaceState(null, "", encodeHash(state.setup));
  renderControls();
}
function fillSelect(id, values, current) {
  const select = $(id);
  const list = values.slice();
  if (!list.includes(current)) list.push(current);
  select.innerHTML = "";
  for (const value of list) {
    const option = document.createElement("option");
    option.value = String(value);
    if (WORDS.has(id)) { option.dataset.key = value; option.textContent = t(value); }
    else option.textContent = String(value);
    option.selected = value === current;
    select.appendChild(option);
  }
}
const editing = new Set();  // typed-in fields whose change event has not been sent yet
function setUnlessEditing(id, value) {
  if (!editing.has(id)) $(id).value = value;
}
function typedField(id, key) {
  $(id).addEventListener("input", () => editing.add(id));
  $(id).onchange = () => {
    editing.delete(id);
    changeSetup({ [key]: numberOf(id) });  // the server's echo (or refusal) sets it again
  };
}
function renderControls() {
  const s = state.setup;
  for (const id of Object.keys(CHOICES)) {
    let values = CHOICES[id];
    if (id === "loss" && s.problem === "regression") values = ["mse"];
    fillSelect(id, values, s[id]);
  }
  // a field being typed in keeps what the user typed: an echo of an earlier change must
  // not overwrite it before its own change event is sent
  setUnlessEditing("batch_size", s.batch_size);
  setUnlessEditing("seed", s.seed);
  $("ratio").value = Math.round(s.ratio * 100); $("ratio-value").textContent = Math.round(s.ratio * 100) + "%";
  $("noise").value = Math.round(s.noise * 100); $("noise-value").textContent = s.noise;
  $("points").value = s.points; $("points-value").textContent = s.points;
  $("classes").value = s.classes; $("classes-value").textContent = s.classes;
  $("classes-row").hidden = s.problem !== "classification";
  const sets = (s.problem === "classification" ? CLASSIFICATION_SETS : REGRESSION_SETS).slice();
  if (s.data === "csv") sets.push("csv");
  const box = $("datasets");
  box.innerHTML = "";
  for (const name of sets) {
    const button = document.createElement("button");
    button.dataset.dataset = name;
    button.dataset.i18n = name === "csv" ? "csv_data" : name;
    button.textContent = t(button.dataset.i18n);
    button.classList.toggle("on", s.data === name);
    button.onclick = () => changeSetup({ data: name });
    box.appendChild(button);
  }
  renderClickModes();
  $("layer-count").textContent = s.hidden.length;
  $("param-count").textContent = state.data.parameters.toLocaleString("en");
  applyLanguage();
}
function renderClickModes() {
  const modes = [["explain", t("mode_explain")]];
  if (state.data.regression) { modes.push(["v:1", t("mode_add_value") + " +1"], ["v:-1", t("mode_add_value") + " -1"]); }
  else for (let k = 0; k < state.data.classes; k++) modes.push(["c:" + k, t("mode_add") + " " + k]);
  if (!modes.some(([m]) => m === state.clickMode)) state.clickMode = "explain";
  const box = $("click-modes");
  box.innerHTML = "";
  for (const [mode, label] of modes) {
    const row = document.createElement("label");
    const input = document.createElement("input");
    input.type = "radio"; input.name = "click-mode"; input.value = mode;
    input.checked = mode === state.clickMode;
    input.onchange = () => { state.clickMode = mode; };
    row.append(input, " " + label);
    if (mode.startsWith("c:")) {
      const c = PALETTE[Number(mode.slice(2)) % PALETTE.length];
      const dot = document.createElement("span");
      dot.textContent = " \u25cf"; dot.style.color = `rgb(${c[0]},${c[1]},${c[2]})`;
      row.append(dot);
    }
    box.appendChild(row);
  }
}
function column(title, extra) {
  const col = document.createElement("div");
  col.className = "column";
  const head = document.createElement("div");
  head.className = "title";
  head.textContent = title;
  col.appendChild(head);
  if (extra) col.appendChild(extra);
  $("columns").appendChild(col);
  return col;
}
function tileCanvas(size, zoomLabel) {
  const canvas = document.createElement("canvas");
  canvas.className = "neuron";
  canvas.width = size; canvas.height = size;
  canvas.onmouseenter = (e) => zoom(canvas, zoomLabel, e);
  canvas.onmousemove = (e) => zoom(canvas, zoomLabel, e);
  canvas.onmouseleave = () => { $("zoom").hidden = true; };
  return canvas;
}
function zoom(canvas, label, event) {
  const box = $("zoom");
  const big = $("zoom-canvas");
  const ctx = big.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(canvas, 0, 0, big.width, big.height);
  $("zoom-label").textContent = label;
  box.style.left = event.clientX + 16 + "px"; box.style.top = event.clientY + 16 + "px";
  box.hidden = false;
}
function buildNetwork() {
  const s = state.setup, d = state.data;
  $("columns").innerHTML = "";
  state.columns = [];
  const features = [];
  const featureCol = column(t("features"));
  let index = 0;
  for (const name of FEATURE_NAMES) {
    const row = document.createElement("div");
    const on = s.features.includes(name);
    row.className = "feature" + (on ? "" : " off");
    const box = document.createElement("input");
    box.type = "checkbox"; box.checked = on; box.dataset.feature = name;
    box.onchange = () => {
      const chosen = FEATURE_NAMES.filter((f) => (f === name ? box.checked : s.features.includes(f)));
      changeSetup({ features: chosen });
    };
    const canvas = tileCanvas(d.tile, FEATURE_LABELS[name]);
    if (on) {
      drawTile(canvas, b64bytes(d.features.data), index * d.tile * d.tile, d.tile, false);
      features.push(canvas);
      index++;
    }
    const label = document.createElement("span");
    label.textContent = FEATURE_LABELS[name];
    row.append(box, canvas, label);
    featureCol.appendChild(row);
  }
  state.columns.push(features);
  s.hidden.forEach((width, layer) => {
    const pm = document.createElement("div");
    pm.className = "pm";
    const minus = document.createElement("button"), plus = document.createElement("button");
    minus.className = plus.className = "round";
    minus.textContent = "\u2212"; plus.textContent = "+";
    minus.dataset.layer = plus.dataset.layer = layer;
    minus.classList.add("remove-neuron"); plus.classList.add("add-neuron");
    minus.onclick = () => setWidth(layer, width - 1);
    plus.onclick = () => setWidth(layer, width + 1);
    pm.append(minus, plus);
    const col = column(`${width} ${t("neurons")}`, pm);
    const tiles = [];
    for (let k = 0; k < width; k++) {
      const canvas = tileCanvas(d.tile, `${t("layer")} ${layer + 1}, #${k + 1}`);
      col.appendChild(canvas);
      tiles.push(canvas);
    }
    state.columns.push(tiles);
  });
  const outCol = column(t("output_col"));
  const outs = [];
  const count = d.regression ? 1 : d.classes;
  for (let k = 0; k < count; k++) {
    const node = document.createElement("div");
    node.className = "neuron";
    const c = d.regression ? BLUE : PALETTE[k % PALETTE.length];
    node.style.background = `rgb(${c[0]},${c[1]},${c[2]})`;
    node.style.width = node.style.height = "18px";
    outCol.appendChild(node);
    outs.push(node);
  }
  state.columns.push(outs);
  if (state.frame) drawNetworkFrame(state.frame, true);
}
function setWidth(layer, width) {
  if (width < 1 || width > MAX_NEURONS) return;
  const hidden = state.setup.hidden.slice();
  hidden[layer] = width;
  changeSetup({ hidden });
}

// ---- frames ---------------------------------------------------------------------------
function onFrame(frame) {
  state.frame = frame;
  state.playing = frame.playing;
  $("play-icon").setAttribute("d", frame.playing ? "M4 3h4v14h-4z M12 3h4v14h-4z" : "M5 3l12 7-12 7z");
  $("epoch").textContent = frame.epoch.toFixed(1);
  $("steps").textContent = frame.step;
  $("test-loss").textContent = frame.test_loss === null ? "-" : frame.test_loss.toFixed(3);
  $("train-loss").textContent = frame.train_loss === null ? "-" : frame.train_loss.toFixed(3);
  if (!state.data) return;
  drawCurve($("curve"), frame.curve);
  drawBoundary($("boundary"), state, frame);
  drawGradFlow($("gradflow"), frame.grad_norms);
  drawNetworkFrame(frame, false);
  if (frame.stopped) showMessage(t("stopped") + ": " + frame.stopped);
}
function drawNetworkFrame(frame, force) {
  // a frame of the network before a change of layers: wait for the next one
  if (frame.layers.length !== state.columns.length - 2) return;
  const size = state.data.tile;
  frame.layers.forEach((layer, i) => {
    const tiles = state.columns[i + 1] || [];
    if (tiles.length !== layer.neurons) return;
    const bytes = b64bytes(layer.data);
    tiles.forEach((canvas, k) => drawTile(canvas, bytes, k * size * size, size, false));
  });
  const now = performance.now();
  if (force || now - state.lastWires > 100) {  // the wires at 10 per second are enough
    drawWires($("wires"), $("network"), state.columns, frame.weights);
    state.lastWires = now;
  }
}
function onExplain(message) {
  state.explained = message.index;
  const [x, y] = message.point;
  $("explain-head").textContent = `${t("point")} (${x.toFixed(3)}, ${y.toFixed(3)}), ${t("label")} ` +
    `${message.label}, ${t(message.split === "test" ? "split_test" : "split_train")}` +
    (message.update ? "" : ". " + t("sgd_only"));
  $("explain-text").textContent = message.lines.join("\n");
  $("explain-panel").hidden = false;
  if (state.frame) drawBoundary($("boundary"), state, state.frame);
}

// ---- controls -------------------------------------------------------------------------
function numberOf(id) { return Number($(id).value); }
function wire() {
  $("play").onclick = () => send({ type: state.playing ? "pause" : "play" });
  $("step").onclick = () => send({ type: "step" });
  $("reset").onclick = () => send({ type: "reset" });
  $("export").onclick = () => send({ type: "export" });
  $("regenerate").onclick = () => changeSetup({ seed: (state.setup.seed + 1) % 2147483648 });
  for (const id of ["lr", "reg_rate", "dropout", "input_noise"]) $(id).onchange = () => changeSetup({ [id]: numberOf(id) });
  for (const id of ["activation", "loss", "optimizer", "regularization"]) $(id).onchange = () => changeSetup({ [id]: $(id).value });
  $("problem").onchange = () => {
    const problem = $("problem").value;
    changeSetup(problem === "regression"
      ? { problem, data: "plane", loss: "mse", added: [] }
      : { problem, data: "circles", loss: "cross_entropy", added: [] });
  };
  typedField("batch_size", "batch_size");
  typedField("seed", "seed");
  $("ratio").onchange = () => changeSetup({ ratio: numberOf("ratio") / 100 });
  $("noise").onchange = () => changeSetup({ noise: numberOf("noise") / 100 });
  $("points").onchange = () => changeSetup({ points: numberOf("points") });
  $("classes").onchange = () => changeSetup({ classes: numberOf("classes") });
  $("add-layer").onclick = () => {
    const hidden = state.setup.hidden.slice();
    if (hidden.length >= MAX_LAYERS) return;
    hidden.push(hidden.length ? hidden[hidden.length - 1] : 4);
    changeSetup({ hidden });
  };
  $("remove-layer").onclick = () => {
    if (state.setup.hidden.length) changeSetup({ hidden: state.setup.hidden.slice(0, -1) });
  };
  $("show-test").onchange = () => { state.showTest = $("show-test").checked; redraw(); };
  $("discretize").onchange = () => { state.discretize = $("discretize").checked; redraw(); };
  $("csv-file").onchange = () => {
    const file = $("csv-file").files[0];
    if (!file) return;
    file.text().then((text) => send({ type: "csv", text }));
    $("csv-file").value = "";
  };
  $("boundary").onclick = (event) => {
    if (!state.data) return;
    const rect = event.target.getBoundingClientRect();
    const [x, y] = toData(event.target, state.data.box,
      (event.clientX - rect.left) * event.target.width / rect.width,
      (event.clientY - rect.top) * event.target.height / rect.height);
    if (state.clickMode === "explain") send({ type: "explain", x, y, lang: LANG });
    else send({ type: "add_point", x, y, label: Number(state.clickMode.slice(2)) });
  };
  for (const lang of ["en", "zh"]) $("lang-" + lang).onclick = () => {
    LANG = lang;
    if (state.setup) history.replaceState(null, "", encodeHash(state.setup));
    if (state.data) { renderControls(); buildNetwork(); } else applyLanguage();
    if (state.frame) drawCurve($("curve"), state.frame.curve);
  };
  window.addEventListener("resize", () => state.frame && drawNetworkFrame(state.frame, true));
}
function redraw() { if (state.frame && state.data) drawBoundary($("boundary"), state, state.frame); }

LANG = languageOfHash();
applyLanguage();
wire();
showMessage(t("connecting"), "info");
connect();
