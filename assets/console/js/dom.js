// Tiny DOM builder. Strings always become text nodes (never HTML): user text is escaped by construction.
// h("button", {class: "x", onclick: fn, "aria-label": "..."}, "text", child, [more])

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else if (k === "class") el.className = Array.isArray(v) ? v.filter(Boolean).join(" ") : v;
      else if (k === "value" || k === "checked" || k === "disabled" || k === "selected") el[k] = v;
      else if (k === "dataset") Object.assign(el.dataset, v);
      else if (k === "ref") v(el);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function mount(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function fmt(n) {
  return typeof n === "number" ? n.toLocaleString() : (n ?? "");
}

export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString();
}

export function clock(iso) {
  const d = iso ? new Date(iso) : new Date();
  return isNaN(d) ? "" : d.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
}

let toastSeq = 0;
export function toast(text, kind = "info") {
  const box = document.getElementById("toasts");
  if (!box) return;
  const el = h("div", {class: `toast toast-${kind}`, id: `toast-${++toastSeq}`}, text);
  box.append(el);
  setTimeout(() => el.remove(), 5000);
}

// A labelled form field. opts: {type, name, required, value, autocomplete, min, max, placeholder}
let fieldSeq = 0;
export function field(label, opts = {}) {
  const id = opts.id || `f${++fieldSeq}`;
  const input = opts.options
    ? h("select", {id, name: opts.name}, opts.options.map(([v, text]) =>
        h("option", {value: v, selected: String(v) === String(opts.value ?? "")}, text)))
    : h(opts.multiline ? "textarea" : "input", {id, ...opts, options: null, multiline: null, label: null});
  return h("div", {class: "field"}, h("label", {for: id}, label), input,
    h("span", {class: "field-error", id: `${id}-err`, role: "alert"}));
}

export function formValues(form) {
  return Object.fromEntries(new FormData(form).entries());
}

// Show an ApiError on a form: per-field messages next to the inputs, the rest in a banner.
export function showErrors(form, err) {
  form.querySelectorAll(".field-error").forEach((e) => { e.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  const banner = form.querySelector(".form-error");
  if (banner) banner.textContent = "";
  let shown = false;
  for (const [name, msg] of Object.entries(err.fields || {})) {
    const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      const slot = document.getElementById(`${input.id}-err`);
      if (slot) { slot.textContent = msg; shown = true; }
    }
  }
  if (banner && (!shown || err.message)) banner.textContent = err.message || String(err);
}
