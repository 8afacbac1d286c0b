// Package web is the dashboard's browser UI: static HTML, CSS and vanilla
// JavaScript (ES modules, no build step, no CDN), embedded in the binary.
//
// The dashboard server serves FS at "/". The UI routes with the URL
// fragment (#/agents, #/session/{id}, …), so the server needs no fallback
// route: every page is index.html. Everything the UI shows comes from the
// dashboard's JSON API (dashboard/API.md); charts are SVG drawn by hand.
// A workflow query parameter (#/sessions?workflow=shop) scopes the
// overview, agents, sessions and findings to one agent workflow and names
// the workflow of the security workflow's pages (recommendations, static
// and dynamic analysis, reports, dev connection); the sidebar's picker
// sets it.
//
// The JavaScript is laid out by job: app.js routes (the URL fragment picks
// a module of pages/), pages/ are the screens, components/ the widgets
// several screens share (a page never imports another page), and
// lifecycle.js holds every timer, observer, event stream and window or
// document listener against an AbortSignal; the router aborts a page's
// signal when the page goes away, so nothing a page started outlives it.
//
// Traffic through the proxy is attacker-controlled: prompts, tool arguments
// and model answers may carry markup. The UI never parses strings as HTML —
// it builds DOM nodes and assigns text with textContent (see static/js/dom.js)
// — and the Content-Security-Policy in CSP forbids inline script.
//
// Browser tests (chromedp driving headless Chromium) live in this package's
// _test files; they skip, loudly, when /usr/bin/chromium is missing unless
// PERIMETER_REQUIRE_CHROMIUM=1. browser_test.go drives the browser,
// fixture_test.go and workflow_fixture_test.go serve the API from memory,
// perimeter_test.go runs the real binary in front of the mock provider,
// and steps_test.go holds the steps that the walkthroughs against both
// share.
package web
