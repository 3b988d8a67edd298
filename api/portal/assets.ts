/** Depo's only static files: a small stylesheet and the script that localises times. */

export const STYLESHEET = `
:root { color-scheme: light dark; --accent: #2457c5; --bad: #b3261e; --warn: #8a5a00; --line: #8884; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, sans-serif; }
header { border-bottom: 1px solid var(--line); padding: .5rem 1rem; }
nav { display: flex; flex-wrap: wrap; gap: 1rem; align-items: baseline; max-width: 60rem; margin: 0 auto; }
nav form { margin-left: auto; }
.brand { font-weight: 700; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; overflow-wrap: anywhere; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: .5rem; background: Canvas; padding: .25rem .5rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: break-word; }
td a { overflow-wrap: anywhere; }
/* On a phone each row becomes a small card: label, then value. */
@media (max-width: 40rem) {
  table, tbody, tr, td { display: block; }
  thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  tr { border-bottom: 1px solid var(--line); padding: .5rem 0; }
  td { border: 0; padding: .1rem 0; }
  td::before { content: attr(data-label); display: inline-block; min-width: 6.5rem; font-weight: 600; }
  td:empty { display: none; }
}
.field { margin: 0 0 1rem; display: flex; flex-direction: column; gap: .25rem; flex: 1 1 14rem; }
.row { display: flex; flex-wrap: wrap; gap: 0 1rem; }
input, textarea, button { font: inherit; padding: .45rem .6rem; border: 1px solid #888; border-radius: 4px; max-width: 100%; }
input[type=url], textarea { width: 100%; }
button, .button { background: var(--accent); color: #fff; border: 0; cursor: pointer; text-decoration: none; padding: .5rem .9rem; border-radius: 4px; display: inline-block; }
button.link { background: none; color: var(--accent); padding: 0; text-decoration: underline; }
button.danger { background: var(--bad); }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; }
form.inline { display: inline; }
.hint { color: #777; font-size: .9rem; margin: 0; }
.error, .error-text { color: var(--bad); }
.error { margin: 0; font-weight: 600; }
.has-error input, .has-error textarea { border: 2px solid var(--bad); }
.notice { border-left: 4px solid var(--accent); padding: .25rem .75rem; }
.warning { border-left: 4px solid var(--warn); padding: .25rem .75rem; }
.status { font-weight: 600; }
.status-delivered, .status-active { color: #1b7f3b; } .status-failed, .status-disabled, .status-failing { color: var(--bad); } .status-pending, .status-archived { color: var(--warn); }
fieldset.types { border: 0; padding: 0; margin: 0 0 1rem; } fieldset.types > legend { font-weight: 600; padding: 0; }
.type-group { border: 1px solid var(--line); border-radius: .25rem; margin: .5rem 0; padding: .25rem .75rem; }
.type-group > legend { font-weight: 600; padding: 0 .25rem; }
.type { margin: .35rem 0; } .type details { margin-left: 1.6rem; } .type .hint { margin-left: 1.6rem; }
.pager { display: flex; gap: 1.5rem; margin: .75rem 0; }
pre.secret { font-size: 1rem; overflow-wrap: anywhere; white-space: pre-wrap; border: 1px solid var(--line); padding: .5rem; }
.type pre { font-size: .8rem; overflow-x: auto; margin: .25rem 0; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.payload { overflow: auto; max-height: 30rem; padding: .75rem; border: 1px solid var(--line); font-size: .85rem; }
`;

/** Rewrites every <time datetime> in the viewer's own time zone and locale. */
export const LOCAL_TIME_SCRIPT = `
document.querySelectorAll('time[datetime]').forEach(function (el) {
  var at = new Date(el.getAttribute('datetime'));
  if (isNaN(at)) return;
  el.title = el.getAttribute('datetime');
  el.textContent = at.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'long' });
});
`;
