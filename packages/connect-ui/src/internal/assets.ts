/** The UI's one stylesheet, served by the package itself (no CDN, no external font). */
export const stylesheet = `
:root { color-scheme: light; --ink: #1d232b; --muted: #5b6673; --line: #d5dbe2; --accent: #2456c6; --bad: #b42318; --good: #1a7f37; --warn: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #f6f8fa; }
header { background: #fff; border-bottom: 1px solid var(--line); padding: 12px 24px; display: flex; gap: 20px; align-items: center; }
header strong { font-size: 16px; }
header a { color: var(--muted); text-decoration: none; }
header a[aria-current="page"] { color: var(--ink); font-weight: 600; }
main { max-width: 980px; margin: 24px auto; padding: 0 24px; }
h1 { font-size: 22px; margin: 0 0 16px; }
.apps { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 14px; list-style: none; padding: 0; }
.apps li { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px; }
.apps h2 { font-size: 16px; margin: 0 0 4px; }
.muted, .help { color: var(--muted); font-size: 13px; }
form.card, .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 18px; margin-bottom: 16px; }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 14px; padding: 10px 14px; }
legend { font-weight: 600; padding: 0 4px; }
label { display: block; font-weight: 600; margin-top: 10px; }
label.inline { display: inline-flex; gap: 6px; align-items: center; }
input[type=text], input[type=password], input[type=number], select, textarea { width: 100%; padding: 7px 9px; border: 1px solid var(--line); border-radius: 5px; font: inherit; }
.field-error { color: var(--bad); font-size: 13px; margin: 3px 0 0; }
.alert { border-radius: 6px; padding: 10px 12px; margin-bottom: 14px; border: 1px solid; }
.alert.error { color: var(--bad); border-color: #f1aeb5; background: #fff5f5; }
.alert.notice { color: var(--good); border-color: #a6dcb5; background: #f3fbf5; }
button, .button { display: inline-block; font: inherit; font-size: 14px; padding: 6px 12px; border-radius: 5px; border: 1px solid var(--line); background: #fff; color: var(--ink); cursor: pointer; text-decoration: none; }
button.primary, .button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger { color: var(--bad); border-color: #f1aeb5; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
th, td { text-align: left; padding: 9px 10px; border-bottom: 1px solid var(--line); vertical-align: top; font-size: 14px; }
th { font-size: 12px; text-transform: uppercase; color: var(--muted); letter-spacing: .03em; }
td.actions form { display: inline; }
td.actions > * { margin: 0 4px 4px 0; }
.status { font-weight: 600; }
.status.active { color: var(--good); }
.status.reconnect_required, .status.failed { color: var(--bad); }
.status.disabled, .status.pending { color: var(--warn); }
code { font-size: 13px; }
h2 { font-size: 17px; margin: 22px 0 10px; }
dl.details { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; margin: 0; }
dl.details dt { color: var(--muted); }
dl.details dd { margin: 0; }
table.configuration th { text-transform: none; font-size: 14px; width: 30%; }
td.name a { color: var(--ink); font-weight: 600; }
`
