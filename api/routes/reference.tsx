/** @jsxImportSource hono/jsx */
import { Hono } from 'hono';
import { raw } from 'hono/html';
import type { OpenApiDocument } from '../openapi';

interface DocOperation {
  operationId: string;
  summary: string;
  description: string;
  tags: string[];
  security?: unknown[];
  parameters?: { name: string; in: string; schema: unknown }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
}

/**
 * `/openapi.json`, the API's OpenAPI 3.1 document, and `/reference`, the same document as a page:
 * one section per operation with its parameters, body and answers. No token; self-contained (no
 * script or stylesheet from elsewhere).
 */
export function referenceRoutes(document: OpenApiDocument) {
  const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods as Record<string, DocOperation>).map(([method, op]) => ({ path, method, op })),
  );
  const page = (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${document.info.title} ${document.info.version} · API reference`}</title>
        <style>{STYLE}</style>
      </head>
      <body>
        <main>
          <h1>{document.info.title} <small>{document.info.version}</small></h1>
          <p>{document.info.description}</p>
          <p>The machine-readable document: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
          <nav aria-label="Operations">
            <ul>
              {operations.map(({ path, method, op }) => (
                <li><a href={`#${op.operationId}`}><code>{method.toUpperCase()} {path}</code></a> {op.summary}</li>
              ))}
            </ul>
          </nav>
          {operations.map(({ path, method, op }) => (
            <section id={op.operationId}>
              <h2><code>{method.toUpperCase()} {path}</code></h2>
              <p><strong>{op.summary}.</strong> {op.description} {op.security?.length === 0 ? 'No token.' : ''}</p>
              {op.parameters && (
                <>
                  <h3>Parameters</h3>
                  <ul>{op.parameters.map((p) => <li><code>{p.name}</code> ({p.in}): <code>{JSON.stringify(p.schema)}</code></li>)}</ul>
                </>
              )}
              {op.requestBody && (
                <>
                  <h3>Body</h3>
                  <pre>{JSON.stringify(op.requestBody.content['application/json']?.schema, null, 2)}</pre>
                </>
              )}
              <h3>Answers</h3>
              <dl>
                {Object.entries(op.responses).map(([status, response]) => (
                  <>
                    <dt>{status}</dt>
                    <dd>
                      {response.description}
                      {response.content?.['application/json'] && <pre>{JSON.stringify(response.content['application/json'].schema, null, 2)}</pre>}
                    </dd>
                  </>
                ))}
              </dl>
            </section>
          ))}
          <section id="schemas">
            <h2>Shared schemas</h2>
            {Object.entries(document.components.schemas).map(([name, schema]) => (
              <>
                <h3 id={`schema-${name}`}>{name}</h3>
                <pre>{JSON.stringify(schema, null, 2)}</pre>
              </>
            ))}
          </section>
        </main>
      </body>
    </html>
  );
  return new Hono().get('/openapi.json', (c) => c.json(document)).get('/reference', (c) => c.html(<>{raw('<!doctype html>')}{page}</>));
}

const STYLE = `
body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color-scheme: light dark; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
section { border-top: 1px solid #8884; margin-top: 1.5rem; }
pre { overflow-x: auto; background: #8881; padding: .5rem; font-size: .85rem; }
code { overflow-wrap: anywhere; }
dt { font-weight: 700; }
`;
