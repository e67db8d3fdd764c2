"use strict";
// myotwitch live page: one WebSocket in, a canvas out. No libraries, works offline.
// Several channels: one lane of the canvas per channel (its trace, its candidates and decisions).
(function () {
  const token = new URLSearchParams(location.search).get("token") || "";
  const $ = (id) => document.getElementById(id);
  const canvas = $("trace");
  const ctx = canvas.getContext("2d");
  // Kept on window for the browser tests and for anyone curious in the console.
  const mtw = window.mtw = {
    rateHz: null, samplesPerColumn: 1, columns: [], traces: [[]], muscles: [], markers: new Map(), lastIndex: 0, startEpochS: null,
    updates: 0, connection: "waiting", connectionHistory: ["waiting"], reconnectedUntil: 0, shown: [], marksSent: 0,
    status: {},
  };
  let ws = null;
  let audio = null;

  function columnsPerS() {
    return canvas.width / Number($("window").value);
  }

  function sendView() {
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ type: "view", columns_per_s: columnsPerS() }));
    }
  }

  function resize() {
    const w = Math.max(200, Math.round(canvas.clientWidth * (window.devicePixelRatio || 1)));
    const h = Math.max(120, Math.round(canvas.clientHeight * (window.devicePixelRatio || 1)));
    if (w !== canvas.width || h !== canvas.height) {
      canvas.width = w; canvas.height = h;
      sendView();
    }
    draw();
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(`${scheme}//${location.host}/ws?token=${encodeURIComponent(token)}`);
    ws.onopen = sendView;
    ws.onmessage = (event) => receive(JSON.parse(event.data));
    ws.onclose = () => showConnection({ connection: mtw.connection === "ended" ? "ended" : "page-offline" });
  }

  function receive(m) {
    if (m.type === "hello") {
      mtw.rateHz = m.rate_hz;
      $("board").textContent = m.board || "";
      mtw.muscles = m.muscles || [];
      $("muscle").textContent = mtw.muscles.length ? `· ${mtw.muscles.length} channels`
        : m.muscle ? `· ${m.muscle}` : "· muscle not given (--muscle)";
      $("sigma").textContent = m.peak_sigma;
      return;
    }
    if (m.type !== "update") return;
    mtw.updates += 1;
    const incoming = m.traces || [m.columns];  // one channel: "columns"; several: "traces", one per channel
    if (m.reset || mtw.traces.length !== incoming.length) {
      mtw.traces = incoming.map(() => []); mtw.markers.clear();
    }
    mtw.columns = mtw.traces[0];
    mtw.samplesPerColumn = m.samples_per_column;
    const keepFrom = () => mtw.lastIndex - 61 * (mtw.rateHz || 1000);
    incoming.forEach((cols, c) => {
      const trace = mtw.traces[c];
      for (const col of cols) trace.push(col);
      if (trace.length) {
        mtw.lastIndex = Math.max(mtw.lastIndex, trace[trace.length - 1][0] + m.samples_per_column);
      }
    });
    for (const trace of mtw.traces) {
      let drop = 0;
      while (drop < trace.length && trace[drop][0] < keepFrom()) drop++;
      if (drop) trace.splice(0, drop);
    }
    const fresh = [];
    for (const k of m.markers) fresh.push(addMarker(k));
    for (const e of m.events) logEvent(e);
    showStatus(m.status);
    draw();
    const now = Date.now();
    for (const f of fresh) if (f) mtw.shown.push(Object.assign({ shown_epoch_s: now / 1000 }, f));
    if (mtw.shown.length > 2000) mtw.shown.splice(0, mtw.shown.length - 2000);
  }

  function channelName(c) {
    return mtw.muscles.length ? `[${c}] ${mtw.muscles[c] || ""} ` : "";
  }

  function addMarker(k) {
    const channel = k.channel || 0;  // a candidate's id is its channel's own
    if (k.kind === "candidate") {
      mtw.markers.set(`${channel}c${k.id}`, { index: k.index, state: "candidate", uv: k.uv, channel });
      return k;
    }
    const key = k.id !== null ? `${channel}c${k.id}` : `${channel}d${k.index}`;
    const had = mtw.markers.get(key);
    mtw.markers.set(key, { index: had ? had.index : k.index, state: k.kind, uv: k.uv, reason: k.reason, channel });
    if (k.kind === "twitch") click();
    if (k.kind === "rejected") logLine(`${clock(k.index)} ${channelName(channel)}struck out: ${k.reason}`);
    else logLine(`${clock(k.index)} ${channelName(channel)}twitch ${k.uv} µV (SNR ${k.snr})`);
    return k;
  }

  function clock(index) {
    if (mtw.startEpochS === null || !mtw.rateHz) return "";
    return new Date((mtw.startEpochS + index / mtw.rateHz) * 1000).toLocaleTimeString();
  }

  function clockOfS(t_s) { return mtw.rateHz ? clock(t_s * mtw.rateHz) : ""; }

  function logLine(text) {
    const li = document.createElement("li");
    li.textContent = text;
    const log = $("log");
    log.prepend(li);
    while (log.children.length > 200) log.lastChild.remove();
  }

  function logEvent(e) {
    if (e.type === "mark") { logLine(`${clockOfS(e.t_s)} mark: ${e.label}`); $("marks").textContent = Number($("marks").textContent) + 1; }
    else if (e.type === "gap") logLine(`${clockOfS(e.start_s)} ${(e.end_s - e.start_s).toFixed(2)} s of samples lost: ${e.why}`);
    else if (e.type === "episode") logLine(`episode closed: ${e.count} twitches, ${e.rate_per_min}/min`);
    else if (e.type === "activity") logLine(`${clockOfS(e.start_s)} activity ${e.duration_s} s (not counted)`);
    else if (e.type === "signal") logLine(`${clockOfS(e.start_s)} ${e.kind} signal: nothing detected there`);
    else if (e.type === "stream") logLine(e.text);
  }

  const CONNECTION_TEXT = {
    receiving: "receiving", waiting: "waiting for samples", ended: "session ended",
    disconnected: "disconnected: no samples, reconnecting…", reconnected: "reconnected",
    "page-offline": "page lost the session (ended, or the program stopped)",
  };

  function showConnection(s) {
    const state = s.connection;
    if (state !== mtw.connection) {
      // Receiving again after a silence: say "reconnected" for a while.
      const label = state === "receiving" && mtw.connection === "disconnected" ? "reconnected" : state;
      mtw.connection = state;
      mtw.connectionHistory.push(label);
      mtw.reconnectedUntil = label === "reconnected" ? Date.now() + 5000 : 0;
    }
    const shown = state === "receiving" && Date.now() < mtw.reconnectedUntil ? "reconnected" : state;
    const el = $("connection");
    el.className = `state ${shown === "page-offline" ? "disconnected" : shown}`;
    el.textContent = shown === "disconnected" && s.silent_s
      ? `disconnected: no samples for ${s.silent_s} s, reconnecting…` : CONNECTION_TEXT[shown];
  }

  function showStatus(s) {
    mtw.status = s;
    if (s.start_epoch_s !== null && s.start_epoch_s !== undefined) mtw.startEpochS = s.start_epoch_s;
    showConnection(s);
    $("rate").textContent = s.twitches_last_min;
    $("counts").textContent = `in the last minute (${s.twitches} in all, ${s.per_min}/min overall)`;
    $("channels").textContent = (s.channel_twitches || []).map((n, c) =>
      `${channelName(c)}${n} (${s.channel_twitches_last_min[c]} in the last minute)`).join(" · ");
    $("episode").textContent = s.episode_count
      ? `open since ${clockOfS(s.episode_start_s)}, ${s.episode_count} twitches` : "none open";
    $("noise").textContent = s.noise_uv === null ? "measuring" : `${s.noise_uv} µV`;
    $("mains").textContent = s.mains_hz === null ? "measuring"
      : (s.mains_hz.length ? s.mains_hz.map((f) => `${f} Hz`).join(" + ") + " notched" : "none");
    const q = [];
    if (s.flat) q.push(`<span class="bad">${s.flat} flat frames: electrode off?</span>`);
    if (s.saturated) q.push(`<span class="warn">${s.saturated} frames at the ADC's rails</span>`);
    if (!q.length) q.push("signal in range");
    $("quality").innerHTML = q.join(" · ");
    $("lost").textContent = `${s.lost} (${s.gaps} gaps, ${s.reconnects} reconnects)`;
    $("viewdrops").textContent = s.view_dropped_blocks ? `page skipped ${s.view_dropped_blocks} blocks (recording has all)` : "";
  }

  function draw() {
    const w = canvas.width, h = canvas.height;
    const windowS = Number($("window").value), uvPerDiv = Number($("scale").value);
    const rate = mtw.rateHz || 1000;
    const top = 18, bottom = h - 22, mid = (top + bottom) / 2, divs = 8;
    const pxPerUv = (bottom - top) / (divs * uvPerDiv);
    const right = mtw.lastIndex, span = windowS * rate;
    const xOf = (index) => w - (right - index) / span * w;
    ctx.clearRect(0, 0, w, h);
    ctx.strokeStyle = "#eee"; ctx.lineWidth = 1;
    for (let d = 0; d <= divs; d++) {
      const y = Math.round(top + d * (bottom - top) / divs) + 0.5;
      ctx.beginPath(); ctx.moveTo(0, y); ctx.lineTo(w, y); ctx.stroke();
    }
    // Time ticks at round clock seconds.
    const step = windowS <= 5 ? 1 : windowS <= 15 ? 2 : windowS <= 30 ? 5 : 10;
    ctx.fillStyle = "#666"; ctx.font = `${Math.round(11 * (window.devicePixelRatio || 1))}px sans-serif`;
    if (mtw.startEpochS !== null) {
      const rightEpoch = mtw.startEpochS + right / rate;
      for (let t = Math.floor(rightEpoch / step) * step; t > rightEpoch - windowS; t -= step) {
        const x = Math.round(xOf((t - mtw.startEpochS) * rate)) + 0.5;
        ctx.strokeStyle = "#ddd"; ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, bottom); ctx.stroke();
        ctx.fillText(new Date(t * 1000).toLocaleTimeString(), x + 2, h - 6);
      }
    }
    ctx.fillText(`${uvPerDiv} µV/div · ${windowS} s`, 4, 12);
    // One lane per channel, at the same µV per pixel; one channel's lane is the whole trace.
    const lanes = mtw.traces.length, laneH = (bottom - top) / lanes;
    mtw.traces.forEach((trace, c) => {
      const laneTop = top + c * laneH, laneBottom = laneTop + laneH, laneMid = lanes > 1 ? laneTop + laneH / 2 : mid;
      if (lanes > 1) {
        ctx.fillStyle = "#333"; ctx.fillText(channelName(c), 4, laneTop + 24);
        if (c) { ctx.strokeStyle = "#999"; ctx.beginPath(); ctx.moveTo(0, laneTop); ctx.lineTo(w, laneTop); ctx.stroke(); }
      }
      ctx.strokeStyle = "#1f5fa8"; ctx.beginPath();
      for (const [index, lo, hi] of trace) {
        if (index < right - span) continue;
        const x = Math.round(xOf(index)) + 0.5;
        const yTop = Math.max(laneTop, laneMid - hi * pxPerUv), yBot = Math.min(laneBottom, laneMid - lo * pxPerUv);
        ctx.moveTo(x, yTop); ctx.lineTo(x, Math.max(yBot, yTop + 1));
      }
      ctx.stroke();
    });
    for (const k of mtw.markers.values()) {
      if (k.index < right - span) continue;
      const x = xOf(k.index), y = (k.channel || 0) === 0 ? top + 2 : top + k.channel * laneH + 12;
      if (k.state === "candidate") { ctx.fillStyle = "#888"; ctx.fillText("○", x - 4, y); }
      else if (k.state === "twitch") { ctx.fillStyle = "#1a8a1a"; ctx.fillText("▲", x - 5, y); }
      else { ctx.fillStyle = "#c0392b"; ctx.fillText("✕", x - 4, y); }
    }
  }

  function click() {
    if (!$("sound").checked) return;
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    const osc = audio.createOscillator(), gain = audio.createGain();
    osc.frequency.value = 1800;
    gain.gain.setValueAtTime(0.3, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.03);
    osc.connect(gain).connect(audio.destination);
    osc.start(); osc.stop(audio.currentTime + 0.035);
  }

  function mark() {
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ type: "mark" }));
      mtw.marksSent += 1;
    }
  }

  $("mark").addEventListener("click", mark);
  document.addEventListener("keydown", (e) => {
    if ((e.key === "m" || e.key === "M") && !e.ctrlKey && !e.metaKey && !e.altKey
        && !["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName)) mark();
  });
  $("window").addEventListener("change", () => { sendView(); draw(); });
  $("scale").addEventListener("change", draw);
  window.addEventListener("resize", resize);
  connect();
  resize();
})();
