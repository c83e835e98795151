// Multi-document YAML (what `kubectl kustomize` prints) as plain objects; any syntax error or duplicate key throws.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

export function readDocuments(text) {
  const objects = [];
  for (const document of parseAllDocuments(text, { uniqueKeys: true })) {
    const problems = [...document.errors, ...document.warnings];
    if (problems.length > 0) {
      throw new Error(problems.map((p) => p.message).join("\n"));
    }
    const value = document.toJS();
    if (value !== null && value !== undefined) {
      objects.push(value);
    }
  }
  return objects;
}

export function readStdin() {
  return readFileSync(0, "utf8");
}
