#!/usr/bin/env node
// Validates Kubernetes objects offline and prints them as one JSON array.
//
//   kubectl kustomize deploy/kubernetes | node .ci/node/validate-k8s.mjs > objects.json
//
// Every object on stdin (multi-document YAML) must be of an apiVersion and kind that kubernetes-models or
// @kubernetes-models/prometheus-operator knows, and must pass that model's schema. The models check types, enums
// and required fields but accept any unknown field (Kubernetes' schemas do not forbid them), so a misspelt field
// would pass; this script adds that check itself: see unknownFields. Errors go to stderr, one per line, and the exit
// code is 1.
import * as kubernetes from "kubernetes-models";
import * as prometheusOperator from "@kubernetes-models/prometheus-operator";
import { readDocuments, readStdin } from "./yaml-documents.mjs";

/** Every model class in the packages, by "apiVersion kind". */
function modelsByType(...modules) {
  const models = new Map();
  const visit = (namespace) => {
    for (const value of Object.values(namespace)) {
      if (typeof value === "function" && typeof value.apiVersion === "string" && typeof value.kind === "string") {
        models.set(`${value.apiVersion} ${value.kind}`, value);
      } else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        visit(value);
      }
    }
  };
  modules.forEach(visit);
  return models;
}

/**
 * Runs the model's schema validator on the object through proxies that record which keys the validator looked at.
 * The generated validators read each property their schema declares (`data.httpGet`, `data.sleep`, …) and
 * enumerate the keys of maps (labels, ConfigMap data, resource limits). So in an object whose keys the validator
 * read but did not enumerate, a key it never read is not in the schema. An object the validator did not look into at
 * all is free-form in the schema (such as a RawExtension) and is left alone.
 */
function unknownFields(Model, object) {
  const seen = new Map(); // JSON pointer → { value, read: Set, enumerated }
  const track = (value, pointer) => {
    if (value === null || typeof value !== "object") {
      return value;
    }
    let entry = seen.get(pointer);
    if (!entry) {
      entry = { value, read: new Set(), enumerated: false };
      seen.set(pointer, entry);
    }
    return new Proxy(value, {
      get(target, key) {
        const child = Reflect.get(target, key);
        if (typeof key !== "string") {
          return child;
        }
        entry.read.add(key);
        return Object.hasOwn(target, key) ? track(child, `${pointer}/${key}`) : child;
      },
      has(target, key) {
        entry.read.add(key);
        return Reflect.has(target, key);
      },
      ownKeys(target) {
        entry.enumerated = true;
        return Reflect.ownKeys(target);
      },
    });
  };

  let schemaError = null;
  try {
    Model.prototype.validate.call(track(object, ""));
  } catch (error) {
    schemaError = error;
  }

  const unknown = [];
  for (const [pointer, { value, read, enumerated }] of seen) {
    if (Array.isArray(value) || enumerated || read.size === 0) {
      continue;
    }
    for (const key of Object.keys(value)) {
      if (!read.has(key)) {
        unknown.push(`${pointer}/${key}`);
      }
    }
  }
  return { schemaError, unknown };
}

function describe(object, index) {
  const name = object?.metadata?.name ?? `document ${index + 1}`;
  return `${object?.kind ?? "?"}/${name}`;
}

function validate(objects, models) {
  const errors = [];
  objects.forEach((object, index) => {
    const where = describe(object, index);
    if (object === null || typeof object !== "object" || Array.isArray(object)) {
      errors.push(`${where}: not an object`);
      return;
    }
    const Model = models.get(`${object.apiVersion} ${object.kind}`);
    if (!Model) {
      errors.push(`${where}: unknown apiVersion/kind ${object.apiVersion} ${object.kind}`);
      return;
    }
    const { schemaError, unknown } = unknownFields(Model, object);
    if (schemaError) {
      errors.push(`${where}: ${schemaError.message}`);
    }
    for (const pointer of unknown) {
      errors.push(`${where}: unknown field ${pointer}`);
    }
  });
  return errors;
}

let objects;
try {
  objects = readDocuments(readStdin());
} catch (error) {
  console.error(`validate-k8s: invalid YAML: ${error.message}`);
  process.exit(1);
}
const errors = validate(objects, modelsByType(kubernetes, prometheusOperator));
if (objects.length === 0) {
  errors.push("no objects on stdin");
}
if (errors.length > 0) {
  for (const error of errors) {
    console.error(`validate-k8s: ${error}`);
  }
  process.exit(1);
}
process.stdout.write(JSON.stringify(objects));
