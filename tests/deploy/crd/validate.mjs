// Reads a JSON array of Prometheus Operator resources on stdin and prints a JSON array of
// problems ("<kind> <name>: <message>"), empty when every one matches its CRD schema.
import * as v1 from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const problems = [];
for (const doc of JSON.parse(Buffer.concat(chunks).toString("utf8"))) {
  const name = `${doc.kind} ${doc.metadata?.name ?? "?"}`;
  const Model = doc.apiVersion === "monitoring.coreos.com/v1" ? v1[doc.kind] : undefined;
  if (!Model) {
    problems.push(`${name}: no schema for ${doc.apiVersion} ${doc.kind}`);
    continue;
  }
  try {
    new Model(doc).validate();
  } catch (error) {
    problems.push(`${name}: ${error.message}`);
  }
}
process.stdout.write(JSON.stringify(problems));
