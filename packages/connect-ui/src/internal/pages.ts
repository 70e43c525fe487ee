/** The UI's pages as HTML: every text that comes from data goes through `html`'s escaping. */
import type { ConnectorDescriptor, ConnectorInstance, Credential } from "@patchbay/core"
import { fieldName } from "./csrf.js"
import type { Field } from "./form.js"
import { Html, html } from "./html.js"

/** What every page needs: where the UI is mounted, the form token, and what the caller may do. */
export interface PageContext {
  readonly base: string
  readonly csrf: string
  readonly may: (action: "write-instance" | "test" | "delete" | "write-credential") => boolean
}

const link = (ctx: PageContext, path: string): string => `${ctx.base}${path}`

const token = (ctx: PageContext): Html => html`<input type="hidden" name="${fieldName}" value="${ctx.csrf}">`

/** A whole page. */
export const layout = (ctx: PageContext, title: string, current: "apps" | "connections" | "none", body: Html): Html =>
  html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Patchbay</title>
<link rel="stylesheet" href="${link(ctx, "/assets/connect-ui.css")}">
</head>
<body>
<header>
<strong>Patchbay</strong>
<a href="${link(ctx, "/")}"${current === "apps" ? new Html(' aria-current="page"') : ""}>Predefined Apps</a>
<a href="${link(ctx, "/connections")}"${current === "connections" ? new Html(' aria-current="page"') : ""}>My Connections</a>
</header>
<main>
${body}
</main>
</body>
</html>`

const alerts = (errors: ReadonlyArray<string>, notice?: string): Html =>
  html`${notice === undefined ? "" : html`<p class="alert notice" role="status">${notice}</p>`}${errors.map(
    (error) => html`<p class="alert error" role="alert">${error}</p>`
  )}`

/** A label for every auth type core knows (a new one fails to typecheck until it has a label). */
const authLabels: Record<ConnectorDescriptor.AuthType, string> = {
  basic: "User name and password",
  api_key: "API key",
  bearer: "Bearer token",
  oauth2_authorization_code: "Sign in with OAuth",
  oauth2_client_credentials: "OAuth client credentials",
  database_password: "Database user and password",
  aws_sigv4: "AWS access key (Signature V4)"
}

const authLabel = (authType: string): string =>
  Object.hasOwn(authLabels, authType) ? authLabels[authType as ConnectorDescriptor.AuthType] : authType

/** Predefined Apps: the registered connectors, each with Connect. */
export const apps = (ctx: PageContext, connectors: ReadonlyArray<ConnectorDescriptor.DescriptorSummary>): Html =>
  layout(
    ctx,
    "Predefined Apps",
    "apps",
    html`<h1>Predefined Apps</h1>
<ul class="apps">
${connectors.map(
  (c) => html`<li>
<h2>${c.name}</h2>
<p class="muted">${c.authProfiles.map(authLabel).join(" or ")}</p>
<p class="muted">${c.operations.map((o) => o.replace(/_/g, " ")).join(", ")}</p>
${ctx.may("write-instance") ? html`<a class="button primary" href="${link(ctx, `/connect/${encodeURIComponent(c.key)}`)}" aria-label="Connect ${c.name}">Connect</a>` : ""}
</li>`
)}
</ul>
${connectors.length === 0 ? html`<p class="muted">No connectors are installed.</p>` : ""}`
  )

const input = (
  field: Field,
  prefix: string,
  values: ReadonlyMap<string, string>,
  errors: ReadonlyMap<string, string>
): Html => {
  const name = `${prefix}.${field.name}`
  const id = `f-${name.replace(/[^A-Za-z0-9_-]/g, "-")}`
  const value = field.kind === "password" ? "" : (values.get(name) ?? "")
  const error = errors.get(field.name)
  const help = html`${field.help.map((text) => html`<p class="help">${text}</p>`)}${
    field.example === undefined ? "" : html`<p class="help">Example: <code>${field.example}</code></p>`
  }`
  const required = field.required && field.kind !== "checkbox" ? new Html(" required") : ""
  const describedBy = error === undefined ? "" : html` aria-invalid="true" aria-describedby="${id}-error"`
  const control = (() => {
    switch (field.kind) {
      case "checkbox":
        return html`<label class="inline" for="${id}"><input type="checkbox" id="${id}" name="${name}"${values.get(name) !== undefined ? new Html(" checked") : ""}> ${field.label}</label>`
      case "select":
        return html`<label for="${id}">${field.label}</label><select id="${id}" name="${name}"${required}>${
          field.required ? "" : html`<option value="">(default)</option>`
        }${field.options.map((option) => html`<option${option === value ? new Html(" selected") : ""}>${option}</option>`)}</select>`
      case "list":
      case "json":
        return html`<label for="${id}">${field.label}${field.kind === "list" ? " (one per line)" : " (JSON)"}</label><textarea id="${id}" name="${name}" rows="2"${required}${describedBy}>${value}</textarea>`
      default:
        return html`<label for="${id}">${field.label}</label><input type="${field.kind === "number" ? "number" : field.kind}" id="${id}" name="${name}" value="${value}"${required}${describedBy}${
          field.kind === "password" ? new Html(' autocomplete="new-password"') : new Html(' autocomplete="off"')
        }>`
    }
  })()
  return html`<div class="field">${control}${help}${error === undefined ? "" : html`<p class="field-error" id="${id}-error">${field.label}: ${error}</p>`}</div>`
}

/** The inputs of a generated form, in a fieldset. */
export const fieldGroup = (
  legend: string,
  fields: ReadonlyArray<Field>,
  prefix: string,
  values: ReadonlyMap<string, string>,
  errors: ReadonlyMap<string, string>
): Html =>
  fields.length === 0
    ? html``
    : html`<fieldset><legend>${legend}</legend>${fields.map((field) => input(field, prefix, values, errors))}</fieldset>`

/** What the Connect form shows. */
export interface ConnectForm {
  readonly descriptor: ConnectorDescriptor.ConnectorDescriptor
  readonly authType: ConnectorDescriptor.AuthType
  readonly configuration: ReadonlyArray<Field>
  /** Undefined when the credential comes from an OAuth2 sign-in. */
  readonly credentials: ReadonlyArray<Field> | undefined
  readonly values: ReadonlyMap<string, string>
  readonly errors: ReadonlyArray<string>
  readonly configurationErrors: ReadonlyMap<string, string>
  readonly credentialErrors: ReadonlyMap<string, string>
}

/** Connect: the connection name, the configuration, and the credentials or an OAuth2 sign-in. */
export const connect = (ctx: PageContext, form: ConnectForm): Html => {
  const d = form.descriptor
  const action = link(ctx, `/connect/${encodeURIComponent(d.key)}`)
  const choices =
    d.authProfiles.length > 1
      ? html`<p class="muted">Connect with: ${d.authProfiles.map((profile, i) =>
          profile === form.authType
            ? html`${i > 0 ? " · " : ""}<strong>${authLabel(profile)}</strong>`
            : html`${i > 0 ? " · " : ""}<a href="${action}?auth_type=${encodeURIComponent(profile)}">${authLabel(profile)}</a>`
        )}</p>`
      : ""
  return layout(
    ctx,
    `Connect ${d.name}`,
    "apps",
    html`<h1>Connect ${d.name}</h1>
${choices}
${alerts(form.errors)}
<form class="card" method="post" action="${action}" novalidate>
${token(ctx)}
<input type="hidden" name="auth_type" value="${form.authType}">
<label for="f-instance_name">Connection Name</label>
<input type="text" id="f-instance_name" name="instance_name" value="${form.values.get("instance_name") ?? ""}" required maxlength="255" autocomplete="off">
<p class="help">Unique per connector type. Add environment and owner, for example <code>${d.key}-reporting-stage</code>.</p>
<label for="f-description">Description</label>
<input type="text" id="f-description" name="description" value="${form.values.get("description") ?? ""}" autocomplete="off">
${fieldGroup("Configuration", form.configuration, "configuration", form.values, form.configurationErrors)}
${form.credentials === undefined ? html`<p class="muted">Saving takes you to ${d.name}'s sign-in page; you come back here when it is done.</p>` : fieldGroup("Credentials", form.credentials, "credentials", form.values, form.credentialErrors)}
<p><button class="primary" type="submit">${form.credentials === undefined ? "Save and sign in" : "Save"}</button>
<a class="button" href="${link(ctx, "/")}">Cancel</a></p>
</form>`
  )
}

/** A row of My Connections. */
export interface ConnectionRow {
  readonly instance: ConnectorInstance.InstanceView
  readonly connectorName: string
  readonly credential: Credential.CredentialMetadata | undefined
}

const date = (value: Date | null | undefined): string =>
  value ? `${value.toISOString().replace("T", " ").slice(0, 16)} UTC` : "—"

/** The words for an instance's state. */
export const statusOf = (instance: ConnectorInstance.InstanceView): { readonly key: string; readonly text: string } =>
  !instance.isEnabled
    ? { key: "disabled", text: "disabled" }
    : instance.status === "reconnect_required"
      ? { key: "reconnect_required", text: "reconnect required" }
      : !instance.hasCredentials
        ? { key: "pending", text: "no credential" }
        : { key: "active", text: "active" }

/** The credential's own expiry, or the access token's (an OAuth2 token set records it in its labels). */
const expiry = (credential: Credential.CredentialMetadata | undefined): Html => {
  if (credential === undefined) return html`—`
  if (credential.expiresAt !== null) return html`${date(credential.expiresAt)}`
  const token = credential.labels.access_token_expires_at
  const at = typeof token === "string" ? new Date(token) : undefined
  return at === undefined || Number.isNaN(at.getTime())
    ? html`—`
    : html`${date(at)}<div class="muted">access token</div>`
}

const masked = (credential: Credential.CredentialMetadata | undefined): Html =>
  credential === undefined
    ? html`<span class="muted">none</span>`
    : html`${Object.entries(credential.masked).map(([k, v], i) => html`${i > 0 ? html`<br>` : ""}<code>${k}: ${v}</code>`)}`

const post = (ctx: PageContext, path: string, label: string, className = ""): Html =>
  html`<form method="post" action="${link(ctx, path)}">${token(ctx)}<button type="submit"${className === "" ? "" : html` class="${className}"`}>${label}</button></form>`

/** My Connections. */
export const connections = (
  ctx: PageContext,
  rows: ReadonlyArray<ConnectionRow>,
  options: {
    readonly notice?: string | undefined
    readonly errors: ReadonlyArray<string>
    readonly next?: string | undefined
  }
): Html =>
  layout(
    ctx,
    "My Connections",
    "connections",
    html`<h1>My Connections</h1>
${alerts(options.errors, options.notice)}
${
  rows.length === 0
    ? html`<p class="card muted">No connections yet. <a href="${link(ctx, "/")}">Connect an app</a>.</p>`
    : html`<table>
<thead><tr><th>Name</th><th>Connector</th><th>Status</th><th>Last tested</th><th>Expires</th><th>Credential</th><th>Actions</th></tr></thead>
<tbody>
${rows.map((row) => {
  const i = row.instance
  const status = statusOf(i)
  const base = `/connections/${i.id}`
  return html`<tr data-instance-id="${i.id}">
<td class="name"><a href="${link(ctx, base)}">${i.instanceName}</a>${i.description ? html`<div class="muted">${i.description}</div>` : ""}</td>
<td>${row.connectorName}</td>
<td><span class="status ${status.key}">${status.text}</span></td>
<td>${date(i.lastTestedAt)}${i.lastTestedAt ? html`<div class="status ${i.testStatus}">${i.testStatus}</div>` : ""}${i.testMessage ? html`<div class="muted test-message">${i.testMessage}</div>` : ""}</td>
<td>${expiry(row.credential)}</td>
<td>${masked(row.credential)}</td>
<td class="actions">
${ctx.may("test") && i.isEnabled ? post(ctx, `${base}/test`, "Test") : ""}
${ctx.may("write-credential") && (i.status === "reconnect_required" || !i.hasCredentials) ? html`<a class="button primary" href="${link(ctx, `${base}/reconnect`)}">Reconnect</a>` : ""}
${ctx.may("write-instance") ? (i.isEnabled ? post(ctx, `${base}/disable`, "Disable") : post(ctx, `${base}/enable`, "Enable")) : ""}
${ctx.may("delete") ? html`<a class="button" href="${link(ctx, `${base}/delete`)}">Delete</a>` : ""}
</td>
</tr>`
})}
</tbody>
</table>`
}
${options.next === undefined ? "" : html`<p><a class="button" href="${link(ctx, `/connections?cursor=${encodeURIComponent(options.next)}`)}">Next page</a></p>`}`
  )

/** Reconnect: new credentials, or a new OAuth2 sign-in. */
export const reconnect = (
  ctx: PageContext,
  instance: ConnectorInstance.InstanceView,
  descriptor: ConnectorDescriptor.ConnectorDescriptor,
  credentials: ReadonlyArray<Field> | undefined,
  errors: ReadonlyArray<string>,
  credentialErrors: ReadonlyMap<string, string>
): Html =>
  layout(
    ctx,
    `Reconnect ${instance.instanceName}`,
    "connections",
    html`<h1>Reconnect ${instance.instanceName}</h1>
${alerts(errors)}
<form class="card" method="post" action="${link(ctx, `/connections/${instance.id}/reconnect`)}" novalidate>
${token(ctx)}
<p class="muted">${descriptor.name} · ${instance.status === "reconnect_required" ? "the stored credential was refused" : "no credential is stored"}${instance.testMessage ? html`: ${instance.testMessage}` : ""}</p>
${credentials === undefined ? html`<p>Sign in to ${descriptor.name} again to store a fresh token.</p>` : fieldGroup("New credentials", credentials, "credentials", new Map(), credentialErrors)}
<p><button class="primary" type="submit">${credentials === undefined ? "Sign in again" : "Save and test"}</button>
<a class="button" href="${link(ctx, "/connections")}">Cancel</a></p>
</form>`
  )

/** Delete, offering to disable first. */
export const confirmDelete = (ctx: PageContext, instance: ConnectorInstance.InstanceView): Html =>
  layout(
    ctx,
    `Delete ${instance.instanceName}`,
    "connections",
    html`<h1>Delete ${instance.instanceName}?</h1>
<div class="card">
<p>Deleting removes the connection and its stored credentials; workflows that use it fail until a new one is connected.</p>
${instance.isEnabled && ctx.may("write-instance") ? html`<p>You can <strong>disable</strong> it instead: it stays here, activities refuse it, and you can enable it again.</p>${post(ctx, `/connections/${instance.id}/disable`, "Disable instead", "primary")} ` : ""}
${post(ctx, `/connections/${instance.id}/delete`, "Delete permanently", "danger")}
<a class="button" href="${link(ctx, "/connections")}">Cancel</a>
</div>`
  )

/** An error page in words. */
export const problem = (ctx: PageContext, title: string, message: string): Html =>
  layout(
    ctx,
    title,
    "none",
    html`<h1>${title}</h1>
<p class="alert error" role="alert">${message}</p>
<p><a class="button" href="${link(ctx, "/connections")}">My Connections</a> <a class="button" href="${link(ctx, "/")}">Predefined Apps</a></p>`
  )

const configurationText = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value))

/** View: a connection's details, its configuration and its credential versions (masked). */
export const view = (
  ctx: PageContext,
  instance: ConnectorInstance.InstanceView,
  connectorName: string,
  versions: ReadonlyArray<Credential.CredentialMetadata>
): Html => {
  const status = statusOf(instance)
  return layout(
    ctx,
    instance.instanceName,
    "connections",
    html`<h1>${instance.instanceName}</h1>
<div class="card">
<dl class="details">
<dt>Connector</dt><dd>${connectorName}</dd>
<dt>Status</dt><dd><span class="status ${status.key}">${status.text}</span></dd>
<dt>Sign-in</dt><dd>${authLabel(instance.authType)}</dd>
${instance.description ? html`<dt>Description</dt><dd>${instance.description}</dd>` : ""}
<dt>Last tested</dt><dd>${date(instance.lastTestedAt)}${instance.testMessage ? html` · ${instance.testStatus}: ${instance.testMessage}` : ""}</dd>
<dt>Created</dt><dd>${date(instance.createdAt)}</dd>
</dl>
</div>
<h2>Configuration</h2>
<table class="configuration"><tbody>${Object.entries(instance.configuration).map(
      ([key, value]) => html`<tr><th scope="row">${key}</th><td><code>${configurationText(value)}</code></td></tr>`
    )}</tbody></table>
<h2>Credentials</h2>
${
  versions.length === 0
    ? html`<p class="muted">No credential is stored.</p>`
    : html`<table class="credentials"><thead><tr><th>Version</th><th>Scope</th><th>Stored</th><th>Expires</th><th>Revoked</th><th>Values</th></tr></thead><tbody>${versions.map(
        (v) =>
          html`<tr><td>${v.version}</td><td>${v.scope.type}</td><td>${date(v.createdAt)}</td><td>${expiry(v)}</td><td>${date(v.revokedAt)}</td><td>${masked(v)}</td></tr>`
      )}</tbody></table>`
}
<p><a class="button" href="${link(ctx, "/connections")}">My Connections</a></p>`
  )
}
