#!/usr/bin/env node
// Reads multi-document YAML on stdin and prints its documents as one JSON array, for tests written in C#.
import { readDocuments, readStdin } from "./yaml-documents.mjs";

try {
  process.stdout.write(JSON.stringify(readDocuments(readStdin())));
} catch (error) {
  console.error(`yaml-to-json: ${error.message}`);
  process.exitCode = 1;
}
