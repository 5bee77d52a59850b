// Builds each kustomization under deploy/kubernetes/ (resources, strategic-merge
// patches, deletions: the subset the manifests use) and validates every object
// against the Kubernetes schema of its API version (kubernetes-models; KEDA's
// for ScaledObject, the Prometheus operator's for PodMonitor). Prints one line
// per object; exits 1 on the first problem.
import fs from "node:fs";
import path from "node:path";
import yaml from "js-yaml";

const root = process.argv[2];
const models = {
  "apps/v1": "kubernetes-models/apps/v1",
  "v1": "kubernetes-models/v1",
  "policy/v1": "kubernetes-models/policy/v1",
  "autoscaling/v2": "kubernetes-models/autoscaling/v2",
  "keda.sh/v1alpha1": "@kubernetes-models/keda/keda.sh/v1alpha1",
  "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
};

function fail(message) {
  console.error("invalid: " + message);
  process.exit(1);
}

function load(file) {
  return yaml.loadAll(fs.readFileSync(file, "utf8")).filter(Boolean);
}

// Strategic merge for what the patches use: maps merge, lists of named maps merge
// by name, other lists and scalars are replaced.
function merge(base, patch) {
  if (Array.isArray(base) && Array.isArray(patch)) {
    if (!patch.every((p) => p && typeof p === "object" && "name" in p)) {
      return patch;
    }
    const out = base.map((b) => {
      const p = patch.find((q) => q.name === b.name);
      return p ? merge(b, p) : b;
    });
    return out.concat(patch.filter((p) => !base.some((b) => b.name === p.name)));
  }
  if (base && patch && typeof base === "object" && typeof patch === "object") {
    const out = { ...base };
    for (const [k, v] of Object.entries(patch)) {
      out[k] = k in base ? merge(base[k], v) : v;
    }
    return out;
  }
  return patch;
}

const same = (a, b) => a.kind === b.kind && a.metadata.name === b.metadata.name;

function build(dir, used) {
  const k = load(path.join(dir, "kustomization.yaml"))[0];
  used.add(path.join(dir, "kustomization.yaml"));
  let objects = [];
  for (const r of k.resources || []) {
    const where = path.join(dir, r);
    if (fs.existsSync(where) && fs.statSync(where).isDirectory()) {
      objects = objects.concat(build(where, used));
    } else {
      if (!fs.existsSync(where)) fail(`${dir}: resource ${r} does not exist`);
      used.add(where);
      objects = objects.concat(load(where));
    }
  }
  for (const p of k.patches || []) {
    let docs;
    if (p.path) {
      used.add(path.join(dir, p.path));
      docs = load(path.join(dir, p.path));
    } else {
      docs = yaml.loadAll(p.patch);
    }
    for (const doc of docs) {
      const target = p.target ? { kind: p.target.kind, metadata: { name: p.target.name } } : doc;
      const at = objects.findIndex((o) => same(o, target));
      if (at < 0) fail(`${dir}: patch for ${target.kind}/${target.metadata.name} matches nothing`);
      if (doc.$patch === "delete") {
        objects.splice(at, 1);
      } else {
        objects[at] = merge(objects[at], doc);
      }
    }
  }
  if (k.labels) {
    for (const o of objects) {
      for (const l of k.labels) o.metadata.labels = { ...(o.metadata.labels || {}), ...l.pairs };
    }
  }
  return objects;
}

const used = new Set();
const builds = [];
for (const dir of [path.join(root, "base"), ...fs.readdirSync(path.join(root, "overlays"))
    .map((d) => path.join(root, "overlays", d))]) {
  builds.push([dir, build(dir, used)]);
}
for (const [dir, objects] of builds) {
  for (const o of objects) {
    const module = models[o.apiVersion];
    if (!module) fail(`${dir}: no schema for ${o.apiVersion}`);
    const classes = await import(module);
    const Model = classes[o.kind];
    if (!Model) fail(`${dir}: no ${o.kind} in ${o.apiVersion}`);
    try {
      new Model(o).validate();
    } catch (e) {
      fail(`${dir}: ${o.kind}/${o.metadata.name}: ${e.message}`);
    }
    console.log(`valid: ${path.relative(root, dir)} ${o.apiVersion} ${o.kind}/${o.metadata.name}`);
  }
}
// Every manifest is part of some build.
const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]);
for (const file of walk(root).filter((f) => f.endsWith(".yaml"))) {
  if (!used.has(file)) fail(`${file} is in no kustomization`);
}
// What the builds hold, for the caller's checks.
fs.writeFileSync(process.argv[3] || "/dev/null", JSON.stringify(Object.fromEntries(
  builds.map(([dir, objects]) => [path.relative(root, dir), objects]))));
