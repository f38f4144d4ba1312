/**
 * Unknown-field checks through generated TypeScript types. The JSON Schemas Kubernetes publishes
 * allow unknown fields (the API server drops or, with strict field validation, rejects them), so a
 * misspelt `readinesProbe` passes schema validation. kubernetes-models also ships TypeScript
 * interfaces generated from the same OpenAPI schemas, and @grafana/schema the dashboard model
 * Grafana generates from its CUE schema. Each document is type-checked as an object literal of its
 * type, and TypeScript's excess-property check names every unknown field at any depth (what
 * `kubeconform -strict` does with additionalProperties: false), along with mistyped values.
 */
import ts from 'typescript';
import { repoPath } from './repo.js';

/** apiVersion/kind → [module, interface] of its kubernetes-models type. */
const INTERFACES: Record<string, readonly [string, string]> = {
  'apps/v1/Deployment': ['kubernetes-models/apps/v1/Deployment', 'IDeployment'],
  'v1/Service': ['kubernetes-models/v1/Service', 'IService'],
  'networking.k8s.io/v1/NetworkPolicy': ['kubernetes-models/networking.k8s.io/v1/NetworkPolicy', 'INetworkPolicy'],
  'monitoring.coreos.com/v1/ServiceMonitor': ['@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor', 'IServiceMonitor'],
  'monitoring.coreos.com/v1/PrometheusRule': ['@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule', 'IPrometheusRule'],
};

export interface Manifest {
  readonly where: string;
  readonly resource: Readonly<Record<string, unknown>>;
}

export interface TypedDocument {
  readonly where: string;
  /** Module and exported type the document must be a literal of. */
  readonly module: string;
  readonly type: string;
  readonly value: unknown;
  /**
   * JSON cannot name a TypeScript string enum member, only its value: with this set, string enums
   * in the type are compared as their literal values ("absolute" for ThresholdsMode.Absolute).
   */
  readonly stringEnumsAsLiterals?: boolean;
}

/** Kubernetes manifests: one message per unknown or mistyped field, naming the manifest. */
export function fieldErrors(manifests: readonly Manifest[]): string[] {
  return typeErrors(
    manifests.map((manifest) => {
      const key = `${String(manifest.resource['apiVersion'])}/${String(manifest.resource['kind'])}`;
      const type = INTERFACES[key];
      if (!type) throw new Error(`${manifest.where}: no TypeScript interface for ${key}`);
      return { where: manifest.where, module: type[0], type: type[1], value: manifest.resource };
    }),
  );
}

/** Type-checks each document as a literal of its type in one program; empty when all are clean. */
export function typeErrors(documents: readonly TypedDocument[]): string[] {
  // The virtual file sits in test/deploy so module resolution finds the repository's node_modules.
  const file = repoPath('test/deploy/helpers/__manifests__.ts');
  const lines: string[] = [];
  const owners: string[] = [];
  documents.forEach((document, i) => {
    const alias = `T${i}`;
    lines.unshift(`import type { ${document.type} as ${alias} } from '${document.module}';`);
    const target = document.stringEnumsAsLiterals ? `Literal<${alias}>` : alias;
    lines.push(`export const manifest${i}: ${target} = ${JSON.stringify(document.value)};`);
    owners.push(document.where);
  });
  // A template literal of a string enum is the union of its values; objects are mapped member by
  // member (optionality kept, so excess-property checks still apply).
  lines.push('type Literal<T> = T extends string ? `${T}` : T extends readonly (infer E)[] ? Literal<E>[] : T extends object ? { [K in keyof T]: Literal<T[K]> } : T;');
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (name) => (name === file ? source : readFile(name));
  host.fileExists = (name) => name === file || fileExists(name);
  host.getSourceFile = (name, language, onError, create) =>
    name === file ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, onError, create);
  const program = ts.createProgram([file], options, host);
  const sourceFile = program.getSourceFile(file)!;
  return ts.getPreEmitDiagnostics(program, sourceFile).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const line = diagnostic.start === undefined ? -1 : sourceFile.getLineAndCharacterOfPosition(diagnostic.start).line;
    const statement = lines[line] ?? '';
    const index = /^export const manifest(\d+)/.exec(statement)?.[1];
    return `${index === undefined ? 'imports' : owners[Number(index)]}: ${message}`;
  });
}
