// The API reference at /docs: a small page that reads /openapi.json and lists every operation with its
// parameters, bodies, answers and a sample body made from the schema. Everything is served from here (no
// CDN, no fonts), so it works offline and under a Content-Security-Policy that allows this origin only.

export const referenceHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API reference · Master AI Orchestrator</title>
<link rel="stylesheet" href="/docs/reference.css">
<script src="/docs/reference.js" defer></script>
</head>
<body>
<header><h1>API reference</h1><p id="about">Reading <a href="/openapi.json">/openapi.json</a>…</p></header>
<main id="operations"></main>
</body>
</html>
`;

export const referenceStyle = `:root { color-scheme: light dark; --muted: #6b7280; --line: #d1d5db; --code: #f3f4f6; }
@media (prefers-color-scheme: dark) { :root { --muted: #9ca3af; --line: #374151; --code: #1f2937; } }
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 0 auto; padding: 1rem; line-height: 1.5; }
h2 { border-bottom: 1px solid var(--line); padding-bottom: .25rem; margin-top: 2rem; text-transform: capitalize; }
details { border: 1px solid var(--line); border-radius: 6px; margin: .5rem 0; padding: .25rem .75rem; }
summary { cursor: pointer; }
.method { display: inline-block; min-width: 4rem; font-weight: 700; text-transform: uppercase; font-family: ui-monospace, monospace; }
.path { font-family: ui-monospace, monospace; }
.muted, .about { color: var(--muted); }
pre { background: var(--code); padding: .5rem; border-radius: 4px; overflow-x: auto; font-size: .85rem; }
table { border-collapse: collapse; }
td, th { border: 1px solid var(--line); padding: .2rem .5rem; text-align: left; vertical-align: top; }
`;

export const referenceScript = `"use strict";
(function () {
  var doc;
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function resolve(schema) {
    var seen = 0;
    while (schema && schema.$ref && seen++ < 20) {
      schema = schema.$ref.split("/").slice(1).reduce(function (at, key) { return at && at[key]; }, doc);
    }
    return schema || {};
  }
  function typeOf(schema) {
    return Array.isArray(schema.type) ? schema.type.filter(function (t) { return t !== "null"; })[0] : schema.type;
  }
  // A sample body: required fields (or all, for answers) with a value of each one's type.
  function sample(schema, depth, all) {
    schema = resolve(schema);
    if (depth > 6) return null;
    if (schema.const !== undefined) return schema.const;
    if (schema.enum) return schema.enum[0];
    if (schema.default !== undefined) return schema.default;
    var choice = schema.anyOf || schema.oneOf;
    if (choice) return sample(choice[0], depth + 1, all);
    var type = typeOf(schema);
    if (type === "object" || schema.properties) {
      var out = {};
      var required = schema.required || [];
      Object.keys(schema.properties || {}).forEach(function (name) {
        if (all || required.indexOf(name) >= 0) out[name] = sample(schema.properties[name], depth + 1, all);
      });
      return out;
    }
    if (type === "array") return schema.items ? [sample(schema.items, depth + 1, all)] : [];
    if (type === "string") return "string";
    if (type === "integer" || type === "number") return schema.minimum !== undefined ? schema.minimum : 0;
    if (type === "boolean") return false;
    if (type === "null") return null;
    return {};
  }
  function schemaBlock(title, schema, all) {
    var box = el("div");
    box.appendChild(el("h4", title));
    var name = schema.$ref ? schema.$ref.split("/").pop() : "";
    if (name) box.appendChild(el("p", "Schema " + name, "muted"));
    var example = el("details");
    example.appendChild(el("summary", "Example"));
    example.appendChild(el("pre", JSON.stringify(sample(schema, 0, all), null, 2)));
    box.appendChild(example);
    var full = el("details");
    full.appendChild(el("summary", "Schema"));
    full.appendChild(el("pre", JSON.stringify(resolve(schema), null, 2)));
    box.appendChild(full);
    return box;
  }
  function operationView(path, method, op) {
    var box = el("details");
    box.id = op.operationId;
    var head = el("summary");
    head.appendChild(el("span", method, "method"));
    head.appendChild(el("span", path, "path"));
    head.appendChild(el("span", " " + (op.summary || ""), "muted"));
    box.appendChild(head);
    if (op.security && op.security.length === 0) box.appendChild(el("p", "No API key needed.", "muted"));
    if (op.parameters) {
      var table = el("table");
      var header = el("tr");
      ["Parameter", "In", "Required", "Type"].forEach(function (t) { header.appendChild(el("th", t)); });
      table.appendChild(header);
      op.parameters.forEach(function (p) {
        var row = el("tr");
        [p.name, p.in, p.required ? "yes" : "no", typeOf(p.schema || {}) || "any"].forEach(function (t) {
          row.appendChild(el("td", String(t)));
        });
        table.appendChild(row);
      });
      box.appendChild(table);
    }
    var body = op.requestBody && op.requestBody.content["application/json"];
    if (body) box.appendChild(schemaBlock("Request body", body.schema, false));
    Object.keys(op.responses).forEach(function (status) {
      var reply = op.responses[status];
      var content = reply.content || {};
      var title = status + ": " + reply.description;
      if (content["application/json"]) box.appendChild(schemaBlock(title, content["application/json"].schema, true));
      else box.appendChild(el("h4", title));
      Object.keys(content).forEach(function (type) {
        if (type !== "application/json") box.appendChild(el("p", type + ": " + (content[type].schema.description || ""), "muted"));
      });
    });
    return box;
  }
  function render() {
    document.getElementById("about").textContent =
      doc.info.title + " " + doc.info.version + " · OpenAPI " + doc.openapi + " · " + doc.info.description;
    var main = document.getElementById("operations");
    var byTag = {};
    Object.keys(doc.paths).forEach(function (path) {
      Object.keys(doc.paths[path]).forEach(function (method) {
        var op = doc.paths[path][method];
        var tag = (op.tags || ["other"])[0];
        (byTag[tag] = byTag[tag] || []).push(operationView(path, method, op));
      });
    });
    (doc.tags || []).forEach(function (tag) {
      if (!byTag[tag.name]) return;
      main.appendChild(el("h2", tag.name));
      byTag[tag.name].forEach(function (node) { main.appendChild(node); });
    });
  }
  fetch("/openapi.json")
    .then(function (response) { return response.json(); })
    .then(function (json) { doc = json; render(); })
    .catch(function (error) { document.getElementById("about").textContent = "Could not read /openapi.json: " + error; });
})();
`;
