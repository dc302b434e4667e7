// The coder's workbench page: plain JavaScript over the JSON API of eventdata/serve/app.py.
"use strict";

const state = {
  form: null,          // the codebook's fields (GET /api/form)
  actors: [],          // every actor name and alias with its validity (GET /api/lists)
  places: [],
  coder: "",
  article: null,       // GET /api/articles/<id>
  sheet: null,         // the sheet the coder saves into: {name, hash, columns, coders}
  line: null,          // the row being edited (null: a new row)
  checkSeq: 0,
  suggestSeq: 0,
};
const $ = (id) => document.getElementById(id);
const HEADER = {"Content-Type": "application/json", "X-Eventdata-Workbench": "1"};

async function api(path, body) {
  const options = body === undefined ? {} : {method: "POST", headers: HEADER, body: JSON.stringify(body)};
  const response = await fetch(path, options);
  noticeInputs(response.headers);
  let data = {};
  try { data = await response.json(); } catch (err) { data = {error: `the server answered ${response.status}`}; }
  return {status: response.status, ok: response.ok, data};
}

// The codebook, lists and articles the page was built with; the server says when they change on disk.
let inputsSeen = null;
function noticeInputs(headers) {
  const version = headers.get("X-Eventdata-Inputs");
  const problem = headers.get("X-Eventdata-Inputs-Problem");
  if (problem) {
    banner(`The codebook on disk has a problem, so the workbench keeps the one it had: ${decodeURIComponent(problem)}`, "error");
    return;
  }
  if (!version) return;
  if (inputsSeen === null) { inputsSeen = version; return; }
  if (version !== inputsSeen) {
    banner("The codebook, the lists or the articles changed on disk, and the checks now use them. Reload the page to see them in the form: your edit is kept in this browser.", "notice");
  }
}

function banner(text, kind) {
  const el = $("banner");
  el.hidden = !text;
  el.textContent = text || "";
  el.className = kind || "";
}

function status(text, kind) {
  const el = $("status");
  el.textContent = text;
  el.className = kind || "";
}

// --- drafts: every edit is kept in this browser until it is saved ---------------------------------

function draftKey() {
  return state.article ? `eventdata-draft:${state.form.dataset}:${state.coder}:${state.article.id}` : null;
}

function keepDraft() {
  const key = draftKey();
  if (!key) return;
  localStorage.setItem(key, JSON.stringify({
    values: formValues(), line: state.line, sheet: state.sheet && state.sheet.name,
    base_hash: state.sheet && state.sheet.hash, kept: new Date().toISOString(),
  }));
}

function dropDraft() {
  const key = draftKey();
  if (key) localStorage.removeItem(key);
}

// --- the form, built from the codebook -------------------------------------------------------------

function fieldById(name) { return document.querySelector(`#event-form [name="${CSS.escape(name)}"]`); }

function buildForm() {
  const form = $("event-form");
  form.textContent = "";
  const derived = $("derived");
  derived.textContent = "";
  for (const f of state.form.fields) {
    const wrap = document.createElement("div");
    wrap.className = "field";
    wrap.id = `field-${f.name}`;
    const label = document.createElement("label");
    label.htmlFor = `input-${f.name}`;
    label.textContent = f.name;
    label.title = f.description;
    if (f.required) { const r = document.createElement("span"); r.className = "req"; r.textContent = " *"; label.append(r); }
    wrap.append(label);
    let input;
    if (f.derived) {
      input = document.createElement("input");
      input.readOnly = true;
      input.id = `derived-${f.name}`;
      wrap.append(input);
      const problems = document.createElement("div");
      problems.id = `problems-${f.name}`;
      wrap.append(problems);
      derived.append(wrap);
      continue;
    }
    if (f.kind === "select") {
      input = document.createElement("select");
      fillOptions(input, f.options);
    } else if (f.kind === "textarea") {
      input = document.createElement("textarea");
      wrap.classList.add("wide");
    } else {
      input = document.createElement("input");
      if (f.kind === "actor") input.setAttribute("list", "actor-names");
      if (f.kind === "place") input.setAttribute("list", "place-names");
      if (f.type === "integer" || f.type === "number") input.inputMode = "decimal";
      if (f.type === "date") input.placeholder = "YYYY-MM-DD";
      if (f.separator) input.placeholder = `several: separated by '${f.separator}'`;
    }
    input.id = `input-${f.name}`;
    input.name = f.name;
    if (f.written_by_tool) { input.readOnly = true; input.placeholder = "given by the tool (build or release)"; }
    if (f.name === "article_id" || f.name === "coder") input.readOnly = true;
    input.addEventListener("input", () => edited(f.name));
    input.addEventListener("change", () => edited(f.name));
    if (f.kind === "actor" || f.kind === "place") input.addEventListener("blur", () => lookUp(f));
    wrap.append(input);
    for (const part of ["typing", "problems", "lookup", "suggest"]) {
      const el = document.createElement("div");
      el.id = `${part}-${f.name}`;
      el.className = part === "suggest" ? "suggestions" : "";
      wrap.append(el);
    }
    form.append(wrap);
  }
}

function fillOptions(select, options, keep) {
  const current = keep === undefined ? select.value : keep;
  select.textContent = "";
  const empty = document.createElement("option");
  empty.value = "";
  empty.textContent = "—";
  select.append(empty);
  for (const o of options) {
    const option = document.createElement("option");
    option.value = o.value;
    option.textContent = o.label;
    select.append(option);
  }
  select.value = options.some((o) => o.value === current) ? current : "";
}

function formValues() {
  const values = {};
  for (const f of state.form.fields) {
    if (f.derived) continue;
    const input = fieldById(f.name);
    if (input) values[f.name] = input.value;
  }
  return values;
}

function setValues(values) {
  for (const f of state.form.fields) {
    if (f.derived) continue;
    const input = fieldById(f.name);
    if (!input) continue;
    if (f.name === "sub_event_type") filterSubEventTypes(values.event_type || "", values[f.name] || "");
    input.value = values[f.name] || "";
  }
  enableSheetColumns();
}

function filterSubEventTypes(eventType, keep) {
  const select = fieldById("sub_event_type");
  const field = state.form.fields.find((f) => f.name === "sub_event_type");
  if (!select || !field) return;
  const allowed = state.form.sub_event_types[eventType];
  const options = allowed ? field.options.filter((o) => allowed.includes(o.value)) : field.options;
  fillOptions(select, options, keep);
}

function enableSheetColumns() {
  const columns = state.sheet ? state.sheet.columns : state.form.sheet_fields;
  for (const f of state.form.fields) {
    const input = fieldById(f.name);
    if (!input || f.derived) continue;
    const absent = !columns.includes(f.name);
    input.disabled = absent;
    input.title = absent ? "this sheet has no such column" : "";
  }
}

// --- checks as typed, and the pipeline of `eventdata validate` ---------------------------------------

function typingProblem(f, value) {
  if (!value) return "";
  const c = f.constraints || {};
  if (f.type === "integer" && !/^[+-]?\d+$/.test(value)) return "a whole number, such as 3";
  if (f.type === "number" && !/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(value)) return "a decimal number with a point, such as 36.2119";
  if (f.type === "date") {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    const day = m && new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
    if (!m || day.getUTCMonth() !== +m[2] - 1 || day.getUTCDate() !== +m[3]) return "a real date written YYYY-MM-DD, such as 2022-02-03";
  }
  if ((f.type === "integer" || f.type === "number") && c.minimum !== undefined && Number(value) < c.minimum) return `at least ${c.minimum}`;
  if ((f.type === "integer" || f.type === "number") && c.maximum !== undefined && Number(value) > c.maximum) return `at most ${c.maximum}`;
  return "";
}

let checkTimer = null;
function edited(name) {
  const f = state.form.fields.find((x) => x.name === name);
  const input = fieldById(name);
  if (f && input) {
    const wrong = typingProblem(f, input.value);
    $(`typing-${name}`).innerHTML = "";
    if (wrong) {
      const div = document.createElement("div");
      div.className = "problem typing";
      div.textContent = `expected ${wrong}`;
      $(`typing-${name}`).append(div);
    }
  }
  if (name === "event_type") filterSubEventTypes(fieldById("event_type").value);
  if (name === "event_date") refreshActorNames();
  if (name === "country") refreshPlaceNames();
  if (name === "evidence") renderText();
  keepDraft();
  document.body.dataset.fresh = "0";
  clearTimeout(checkTimer);
  checkTimer = setTimeout(runCheck, 300);
  if (name === "evidence" || name === "event_date") scheduleSuggest();
}

async function runCheck() {
  if (!state.sheet) return;
  const seq = ++state.checkSeq;
  const sent = JSON.stringify(formValues());
  let result;
  try {
    result = await api("/api/check", {sheet: state.sheet.name, line: state.line, values: JSON.parse(sent)});
  } catch (err) {
    status("The workbench server does not answer: checks are paused; your edit is kept in this browser.", "error");
    return;
  }
  if (seq !== state.checkSeq) return;  // a newer check is on its way
  if (JSON.stringify(formValues()) !== sent) return;  // edited meanwhile: the next check shows the row as it is
  if (!result.ok) { status(result.data.error, "error"); return; }
  showProblems(result.data.problems);
  for (const [name, value] of Object.entries(result.data.derived)) {
    const el = $(`derived-${name}`);
    if (el) el.value = value;
  }
  document.body.dataset.checked = String(seq);
  document.body.dataset.fresh = "1";  // the problems shown are those of the row as it is in the form
}

function showProblems(problems) {
  document.querySelectorAll(".field").forEach((el) => el.classList.remove("has-error", "has-warning"));
  document.querySelectorAll("[id^='problems-']").forEach((el) => { el.textContent = ""; });
  const other = $("other-problems");
  other.textContent = "";
  for (const p of problems) {
    const div = document.createElement("div");
    div.className = `problem ${p.severity}`;
    div.dataset.code = p.code;
    const code = document.createElement("code");
    code.textContent = p.code;
    div.append(code, ` ${p.value !== null && p.value !== undefined ? `'${p.value}': ` : ""}${p.message}`);
    const hint = /Did you mean '([^']+)'/i.exec(p.message);
    const place = p.column && $(`problems-${p.column}`);
    if (hint && place && fieldById(p.column)) div.append(fixButton(p.column, hint[1]));
    if (place) {
      place.append(div);
      $(`field-${p.column}`).classList.add(p.severity === "error" ? "has-error" : "has-warning");
    } else {
      other.append(div);
    }
  }
}

function fixButton(name, value) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "fix";
  button.textContent = `use ${value}`;
  button.addEventListener("click", () => { fieldById(name).value = value; edited(name); });
  return button;
}

// --- actors and places: autocomplete by date and country, "did you mean" ----------------------------------

function refreshActorNames() {
  const day = (fieldById("event_date") || {}).value || "";
  const valid = /^\d{4}-\d{2}-\d{2}$/.test(day) ? state.actors.filter((a) => a.start <= day && day <= a.end) : state.actors;
  const list = $("actor-names");
  list.textContent = "";
  const seen = new Set();
  for (const a of valid) {
    if (seen.has(a.name)) continue;
    seen.add(a.name);
    const option = document.createElement("option");
    option.value = a.name;
    option.label = a.name === a.actor ? `inter ${a.inter}` : `→ ${a.actor}`;
    list.append(option);
  }
}

function refreshPlaceNames() {
  const country = (fieldById("country") || {}).value || "";
  const list = $("place-names");
  list.textContent = "";
  for (const p of state.places.filter((x) => !country || x.country === country)) {
    const option = document.createElement("option");
    option.value = p.name;
    option.label = p.name === p.location ? `${p.admin1}, ${p.country}` : `→ ${p.location} (${p.admin1})`;
    list.append(option);
  }
}

async function lookUp(f) {
  const input = fieldById(f.name);
  const box = $(`lookup-${f.name}`);
  box.textContent = "";
  const names = f.separator ? input.value.split(f.separator) : [input.value];
  for (const name of names.map((n) => n.trim()).filter(Boolean)) {
    const query = new URLSearchParams({kind: f.kind, name, date: fieldById("event_date").value, country: fieldById("country").value});
    let result;
    try { result = await api(`/api/lookup?${query}`); } catch (err) { return; }
    const data = result.data;
    if (!result.ok || data.known.length) continue;
    const div = document.createElement("div");
    div.className = "problem warning";
    if (data.elsewhere.length) div.append(`'${name}' is ${data.elsewhere.join(", ")}, not valid ${f.kind === "actor" ? "on this date" : "in this country"}. `);
    else div.append(`'${name}' is not in the ${f.kind === "actor" ? "actor" : "place"} list. `);
    if (data.did_you_mean.length) {
      div.append("Did you mean ");
      for (const hint of data.did_you_mean) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = hint;
        button.addEventListener("click", () => { input.value = f.separator ? input.value.replace(name, hint) : hint; edited(f.name); box.textContent = ""; });
        div.append(button);
      }
      div.append("?");
    }
    box.append(div);
  }
}

// --- suggestions the coder confirms -------------------------------------------------------------------

let suggestTimer = null;
function scheduleSuggest() {
  clearTimeout(suggestTimer);
  suggestTimer = setTimeout(runSuggest, 500);
}

async function runSuggest() {
  if (!state.article) return;
  const seq = ++state.suggestSeq;
  let result;
  try {
    result = await api("/api/suggest", {article_id: state.article.id, context: fieldById("evidence").value, event_date: fieldById("event_date").value});
  } catch (err) { return; }
  if (seq !== state.suggestSeq || !result.ok) return;
  for (const [name, items] of Object.entries(result.data)) {
    const box = $(`suggest-${name}`);
    if (!box) continue;
    box.textContent = "";
    const current = fieldById(name).value;
    const shown = items.filter((s) => s.value !== current).slice(0, 3);
    if (!shown.length) continue;
    box.append("suggested: ");
    for (const s of shown) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "suggestion";
      button.dataset.value = s.value;
      button.textContent = s.value;
      button.title = s.why;
      button.addEventListener("click", () => { fieldById(name).value = s.value; edited(name); box.textContent = ""; });
      box.append(button);
      if (s.passage) { const q = document.createElement("q"); q.textContent = s.passage; box.append(q, " "); }
    }
  }
  document.body.dataset.suggested = String(seq);
}

// --- the article: evidence by selection, passages highlighted -----------------------------------------

function passagesOf(evidence) {
  return (evidence || "").split(/\s*(?:\.\.\.|…)\s*/).map((p) => p.trim()).filter(Boolean);
}

function spansOf(text, passages, kind) {
  const spans = [];
  for (const passage of passages) {
    const pattern = passage.split(/\s+/).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("\\s+");
    const match = new RegExp(pattern).exec(text);
    if (match) spans.push({start: match.index, end: match.index + match[0].length, kind});
  }
  return spans;
}

function renderText() {
  const box = $("article-text");
  box.textContent = "";
  if (!state.article) return;
  const text = state.article.text;
  const evidence = fieldById("evidence") ? fieldById("evidence").value : "";
  const used = spansOf(text, passagesOf(evidence), "used");
  const others = state.article.events.flatMap((e) => spansOf(text, passagesOf(e.values.evidence), "other"));
  const marks = new Array(text.length).fill("");
  for (const span of [...others, ...used]) {
    for (let i = span.start; i < span.end; i++) marks[i] = marks[i].includes(span.kind) ? marks[i] : `${marks[i]} ${span.kind}`.trim();
  }
  let i = 0;
  while (i < text.length) {
    let j = i;
    while (j < text.length && marks[j] === marks[i]) j++;
    const piece = text.slice(i, j);
    if (marks[i]) {
      const mark = document.createElement("mark");
      mark.className = marks[i];
      mark.textContent = piece;
      box.append(mark);
    } else {
      box.append(document.createTextNode(piece));
    }
    i = j;
  }
}

function offsetIn(box, node, offset) {
  // Characters of the article before (node, offset): the page shows the text exactly, in order.
  const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
  let total = 0;
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n === node) return total + offset;
    total += n.textContent.length;
  }
  if (node === box) {
    let count = 0;
    for (let k = 0; k < offset; k++) count += box.childNodes[k].textContent.length;
    return count;
  }
  return null;
}

function selectionAdded() {
  const selection = window.getSelection();
  if (!selection || selection.isCollapsed || !selection.rangeCount) return;
  const box = $("article-text");
  const range = selection.getRangeAt(0);
  if (!box.contains(range.startContainer) || !box.contains(range.endContainer)) return;
  const start = offsetIn(box, range.startContainer, range.startOffset);
  const end = offsetIn(box, range.endContainer, range.endOffset);
  if (start === null || end === null || end <= start) return;
  const passage = state.article.text.slice(start, end).split(/\s+/).join(" ").trim();
  if (passage.length < 3) return;
  const evidence = fieldById("evidence");
  const passages = passagesOf(evidence.value);
  if (!passages.includes(passage)) {
    evidence.value = passages.length ? `${evidence.value.trim()}${state.form.evidence_join}${passage}` : passage;
  }
  selection.removeAllRanges();
  edited("evidence");
}

// --- articles, events, saving ------------------------------------------------------------------------

async function loadArticle(articleId, restore) {
  const query = new URLSearchParams({coder: state.coder});
  const result = await api(`/api/articles/${encodeURIComponent(articleId)}?${query}`);
  if (!result.ok) { banner(result.data.error, "error"); return; }
  state.article = result.data;
  state.sheet = result.data.sheet;
  localStorage.setItem("eventdata-article", articleId);
  const a = state.article;
  $("article-meta").textContent = `${a.id} · ${a.title} · ${a.publisher} · published ${a.published}${a.url ? ` · ${a.url}` : ""}`;
  renderEvents();
  const draft = restore !== false && localStorage.getItem(draftKey());
  if (draft) {
    const kept = JSON.parse(draft);
    startEvent(kept.line, kept.values);
    if (kept.sheet === (state.sheet && state.sheet.name)) state.sheet.hash = kept.base_hash;
    banner(`Restored your unsaved edit of ${kept.kept.slice(0, 19).replace("T", " ")} (kept in this browser).`);
  } else {
    startEvent(null, {});
  }
}

function renderEvents() {
  const body = document.querySelector("#events tbody");
  body.textContent = "";
  for (const e of state.article.events) {
    const row = document.createElement("tr");
    const v = e.values;
    for (const text of [`${e.sheet}:${e.line}`, v.event_date, `${v.event_type} / ${v.sub_event_type}`, v.actor1, v.location, v.fatalities, v.coder]) {
      const cell = document.createElement("td");
      cell.textContent = text || "";
      row.append(cell);
    }
    const cell = document.createElement("td");
    if (state.sheet && e.sheet === state.sheet.name) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "edit";
      button.addEventListener("click", () => startEvent(e.line, e.values));
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "delete";
      remove.textContent = "delete";
      remove.title = `Delete ${e.sheet}, line ${e.line}`;
      remove.addEventListener("click", () => deleteEvent(e.line, v));
      cell.append(button, " ", remove);
    }
    row.append(cell);
    if (state.sheet && e.sheet === state.sheet.name && e.line === state.line) row.className = "editing";
    body.append(row);
  }
  const s = state.sheet;
  const blind = state.article.double_coded ? " Double-coded article: you see only your own events." : "";
  $("sheet-info").textContent = s ? `You save into ${s.path}${s.hash ? "" : " (a new sheet)"}.${blind}` : "";
}

function startEvent(line, values) {
  state.line = line;
  const filled = {...values, article_id: state.article.id, coder: state.coder};
  setValues(filled);
  $("form-title").textContent = line ? `Editing ${state.sheet.name}, line ${line}` : "New event";
  renderEvents();
  renderText();
  refreshActorNames();
  refreshPlaceNames();
  document.querySelectorAll("[id^='typing-'], [id^='lookup-'], [id^='suggest-']").forEach((el) => { el.textContent = ""; });
  runCheck();
  scheduleSuggest();
}

async function save() {
  if (!state.sheet) { status("Say who is coding first.", "error"); return; }
  keepDraft();
  $("reload-sheet").hidden = true;
  status("Saving…");
  let result;
  try {
    result = await api("/api/save", {
      sheet: state.sheet.name, line: state.line, values: formValues(), base_hash: state.sheet.hash,
      coder: state.coder, accept_errors: $("accept-errors").checked,
    });
  } catch (err) {
    status("Not saved: the workbench server does not answer (was it stopped?). Your edit is kept in this browser; start `eventdata serve` again and save.", "error");
    return;
  }
  const data = result.data;
  if (result.ok) {
    dropDraft();
    state.sheet.hash = data.hash;
    state.line = data.line;
    $("accept-errors").checked = false;
    showProblems(data.problems);
    const note = data.with_errors ? " with blocking problems: `eventdata validate` fails until they are fixed" : "";
    status(`Saved to ${state.sheet.path}, line ${data.line}${note}.`, data.with_errors ? "error" : "ok");
    await refreshEvents();
    $("form-title").textContent = `Editing ${state.sheet.name}, line ${state.line}`;
    return;
  }
  if (data.problems && data.problems.length) showProblems(data.problems);
  if (result.status === 409) $("reload-sheet").hidden = false;
  status(data.error || `Not saved (the server answered ${result.status}).`, "error");
}

async function deleteEvent(line, values) {
  const what = [values.event_date, values.event_type, values.location].filter(Boolean).join(", ");
  if (!window.confirm(`Delete the event at line ${line} (${what || "empty row"}) from ${state.sheet.path}?`)) return;
  status("Deleting…");
  let result;
  try {
    result = await api("/api/delete", {sheet: state.sheet.name, line, base_hash: state.sheet.hash, coder: state.coder});
  } catch (err) {
    status("Not deleted: the workbench server does not answer (was it stopped?).", "error");
    return;
  }
  const data = result.data;
  if (!result.ok) {
    if (result.status === 409) $("reload-sheet").hidden = false;
    status(data.error || `Not deleted (the server answered ${result.status}).`, "error");
    return;
  }
  state.sheet.hash = data.hash;
  if (state.line === line) startEvent(null, {});
  else if (state.line && state.line > line) state.line -= data.lines;  // the row being edited moved up
  await refreshEvents();
  if (state.line) $("form-title").textContent = `Editing ${state.sheet.name}, line ${state.line}`;
  status(`Deleted line ${line} of ${state.sheet.path}${data.event_id ? ` (${data.event_id})` : ""}.`, "ok");
}

async function refreshEvents() {
  const query = new URLSearchParams({coder: state.coder});
  const result = await api(`/api/articles/${encodeURIComponent(state.article.id)}?${query}`);
  if (!result.ok) return;
  state.article.events = result.data.events;
  const option = Array.from($("article-choice").options).find((o) => o.value === state.article.id);
  if (option) option.textContent = `${state.article.id} · ${state.article.published} · ${result.data.events.length} event(s)`;
  const hash = state.sheet.hash;
  state.sheet = result.data.sheet;
  state.sheet.hash = hash;
  renderEvents();
  renderText();
}

async function reloadSheet() {
  const result = await api(`/api/sheets/${state.sheet.name.split("/").map(encodeURIComponent).join("/")}`);
  if (!result.ok) { status(result.data.error, "error"); return; }
  const values = formValues();
  const query = new URLSearchParams({coder: state.coder});
  const fresh = await api(`/api/articles/${encodeURIComponent(state.article.id)}?${query}`);
  if (fresh.ok) state.article.events = fresh.data.events;
  state.sheet = result.data;
  setValues(values);
  renderEvents();
  renderText();
  keepDraft();
  $("reload-sheet").hidden = true;
  status("The sheet was reloaded with the other change; your edit is still in the form: check it and save again.");
  runCheck();
}

async function start() {
  const [form, lists, articles] = await Promise.all([api("/api/form"), api("/api/lists"), api("/api/articles")]);
  state.form = form.data;
  state.actors = lists.data.actors;
  state.places = lists.data.places;
  $("dataset-name").textContent = state.form.dataset;
  buildForm();
  const choice = $("article-choice");
  for (const a of articles.data) {
    const option = document.createElement("option");
    option.value = a.id;
    option.textContent = `${a.id} · ${a.published} · ${a.events} event(s)`;
    choice.append(option);
  }
  const chosen = localStorage.getItem("eventdata-article");
  if (chosen && articles.data.some((a) => a.id === chosen)) choice.value = chosen;
  choice.addEventListener("change", () => state.coder && loadArticle(choice.value));
  $("coder-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = $("coder").value.trim();
    if (!name) { banner("Say who is coding: your name is written in the coder column of every row you save.", "error"); return; }
    state.coder = name;
    localStorage.setItem("eventdata-coder", name);
    banner("");
    loadArticle(choice.value);
  });
  $("article-text").addEventListener("mouseup", selectionAdded);
  $("article-text").addEventListener("keyup", selectionAdded);
  $("new-event").addEventListener("click", () => state.article && startEvent(null, {}));
  $("save").addEventListener("click", save);
  $("reload-sheet").addEventListener("click", reloadSheet);
  const coder = localStorage.getItem("eventdata-coder");
  if (coder) {
    $("coder").value = coder;
    state.coder = coder;
    await loadArticle(choice.value);
  } else {
    banner("Who is coding? Type your name above and press Start: a sheet belongs to one coder.");
  }
  document.body.dataset.ready = "1";
}

start().catch((err) => banner(`The workbench could not start: ${err}`, "error"));
