/*
 * The operations dashboard's client: plain ES2022 for the browser, no build step, served by the
 * API with the page (src/http/dashboard.ts). Globals from the vendor scripts loaded before it:
 * `Chart` (chart.js) and `graphqlWs` (graphql-ws). Everything goes through the API's GraphQL
 * endpoint with the signed-in token, so the resolvers decide what this account may see:
 * - the figures: `analytics` once (and again after each reconnect), then every snapshot of the
 *   `analyticsUpdated` subscription over graphql-ws;
 * - consumer lag: `consumerLag` (ADMIN only) every few seconds; the API reads it from Kafka.
 * Text is only ever set with textContent: item names come from the catalog, not from us.
 */
'use strict';

(() => {
  const GRAPHQL_PATH = metaContent('graphql-path') || '/graphql';
  const TOKEN_KEY = 'food-ordering.dashboard.token';
  /** Orders per minute counts the orders placed in this trailing window. */
  const RATE_WINDOW_MS = 60_000;
  /** How often the rate is recomputed and charted, and the lag asked for (the API caches it 5 s). */
  const TICK_MS = 5_000;
  /** Points kept on the time charts: 15 minutes of ticks. */
  const HISTORY_POINTS = 180;
  const TOP_ITEMS = 10;
  // The catalog prices in euros (orders carry currency EUR); snapshots count cents.
  const money = new Intl.NumberFormat('en', { style: 'currency', currency: 'EUR' });
  const count = new Intl.NumberFormat('en');
  const time = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });

  const SNAPSHOT = `scope ordersPlaced ordersConfirmed ordersPaymentFailed ordersCancelled ordersDelivered
    revenueCents averageOrderValueCents topItems(limit: ${TOP_ITEMS}) { menuItemId name quantity } updatedAt`;
  const ME = 'query DashboardViewer { me { id role restaurantId } }';
  const RESTAURANTS = 'query DashboardRestaurants { restaurants { id name } }';
  const ANALYTICS = `query DashboardAnalytics($restaurantId: ID) { analytics(restaurantId: $restaurantId) { ${SNAPSHOT} } }`;
  const UPDATES = `subscription DashboardUpdates($restaurantId: ID) { analyticsUpdated(restaurantId: $restaurantId) { ${SNAPSHOT} } }`;
  const LAG = 'query DashboardLag { consumerLag { readAt groups { groupId totalLag partitions { topic lag } } } }';

  const $ = (selector) => /** @type {HTMLElement} */ (document.querySelector(selector));
  const figure = (name) => $(`[data-figure="${name}"]`);

  /** The signed-in session: its token, who it is, its socket and timers. */
  let session = null;

  // ---- GraphQL over HTTP and WebSocket ------------------------------------------------------

  function metaContent(name) {
    return document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? '';
  }

  class ApiProblem extends Error {
    constructor(message, code) {
      super(message);
      this.code = code;
    }
  }

  async function graphql(query, variables, token) {
    let response;
    try {
      response = await fetch(GRAPHQL_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
    } catch {
      throw new ApiProblem('the API did not answer', 'UNAVAILABLE');
    }
    const body = await response.json().catch(() => null);
    const error = body?.errors?.[0];
    if (error) throw new ApiProblem(error.message, error.extensions?.code ?? `HTTP ${response.status}`);
    if (!body?.data) throw new ApiProblem(`unexpected answer (HTTP ${response.status})`, `HTTP ${response.status}`);
    return body.data;
  }

  /** Whatever graphql-ws reports (a CloseEvent, GraphQL errors, an Error) as one sentence. */
  function describeSocketProblem(problem) {
    if (Array.isArray(problem)) return problem.map((e) => `${e.message} (${e.extensions?.code ?? 'error'})`).join('; ');
    if (problem && typeof problem === 'object' && 'code' in problem && 'reason' in problem) {
      return `the live connection closed (${problem.code}${problem.reason ? `: ${problem.reason}` : ''})`;
    }
    return problem instanceof Error ? problem.message : String(problem);
  }

  // ---- what the page shows ------------------------------------------------------------------

  function showProblem(text) {
    const box = $('#problem');
    box.textContent = text;
    box.hidden = !text;
  }

  function setConnection(state, text) {
    const badge = $('#connection');
    badge.dataset.state = state;
    badge.textContent = text;
  }

  function lineChart(canvas, label, color) {
    return new Chart(canvas, {
      type: 'line',
      data: { labels: [], datasets: [{ label, data: [], borderColor: color, backgroundColor: color, pointRadius: 0, tension: 0 }] },
      options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
    });
  }

  function barChart(canvas, label, color, horizontal) {
    return new Chart(canvas, {
      type: 'bar',
      data: { labels: [], datasets: [{ label, data: [], backgroundColor: color }] },
      options: {
        animation: false,
        maintainAspectRatio: false,
        indexAxis: horizontal ? 'y' : 'x',
        plugins: { legend: { display: false } },
        scales: { [horizontal ? 'x' : 'y']: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }

  function createCharts() {
    return {
      rate: lineChart($('#rate-chart'), 'orders per minute', '#2563eb'),
      revenue: lineChart($('#revenue-chart'), 'revenue (€)', '#059669'),
      funnel: barChart($('#funnel-chart'), 'orders', ['#6b7280', '#2563eb', '#059669', '#dc2626', '#d97706'], false),
      items: barChart($('#items-chart'), 'quantity', '#7c3aed', true),
    };
  }

  function setChart(chart, labels, values) {
    chart.data.labels = labels;
    chart.data.datasets[0].data = values;
    chart.update('none');
  }

  function pushPoint(chart, label, value) {
    chart.data.labels.push(label);
    chart.data.datasets[0].data.push(value);
    if (chart.data.labels.length > HISTORY_POINTS) {
      chart.data.labels.shift();
      chart.data.datasets[0].data.shift();
    }
    chart.update('none');
  }

  function render(snapshot) {
    const s = session;
    s.snapshot = snapshot;
    s.samples.push({ at: Date.now(), placed: snapshot.ordersPlaced });
    for (const name of ['ordersPlaced', 'ordersConfirmed', 'ordersDelivered', 'ordersPaymentFailed', 'ordersCancelled']) {
      figure(name).textContent = count.format(snapshot[name]);
    }
    figure('revenue').textContent = money.format(snapshot.revenueCents / 100);
    figure('averageOrder').textContent = money.format(snapshot.averageOrderValueCents / 100);
    figure('updatedAt').textContent = new Date(snapshot.updatedAt).toLocaleString('en-GB');
    setChart(s.charts.funnel, ['placed', 'confirmed', 'delivered', 'payment failed', 'cancelled'], [
      snapshot.ordersPlaced,
      snapshot.ordersConfirmed,
      snapshot.ordersDelivered,
      snapshot.ordersPaymentFailed,
      snapshot.ordersCancelled,
    ]);
    const list = $('#top-items');
    list.replaceChildren(
      ...snapshot.topItems.map((item) => {
        const row = document.createElement('li');
        row.dataset.item = item.menuItemId;
        row.textContent = `${item.name}: ${count.format(item.quantity)}`;
        return row;
      }),
    );
    setChart(s.charts.items, snapshot.topItems.map((i) => i.name), snapshot.topItems.map((i) => i.quantity));
    renderRate();
  }

  /**
   * Orders per minute, derived here rather than by the analytics fold: the fold keeps running
   * totals only (it must give the same figures whenever its events are replayed, so it keeps no
   * wall-clock windows). The rate is therefore how much `ordersPlaced` grew over the last 60 s
   * of snapshots this page received, by this browser's clock; for the first minute after the
   * page opened (or the scope changed) it is the count since then, and the caption says so.
   */
  function ordersPerMinute(samples, now) {
    const windowStart = now - RATE_WINDOW_MS;
    let base = samples[0];
    for (const sample of samples) {
      if (sample.at > windowStart) break;
      base = sample;
    }
    // Older samples than the base are never needed again.
    samples.splice(0, samples.indexOf(base));
    const latest = samples[samples.length - 1];
    return { orders: latest.placed - base.placed, fullWindow: base.at <= windowStart, sinceMs: now - base.at };
  }

  function renderRate() {
    const s = session;
    if (s.samples.length === 0) return;
    const rate = ordersPerMinute(s.samples, Date.now());
    figure('ordersPerMinute').textContent = count.format(rate.orders);
    $('#rate-window').textContent = rate.fullWindow
      ? 'placed in the last 60 s'
      : `placed since the page opened ${Math.round(rate.sinceMs / 1000)} s ago (a full minute soon)`;
    return rate.orders;
  }

  function tick() {
    const s = session;
    if (!s?.snapshot) return;
    const label = time.format(new Date());
    pushPoint(s.charts.rate, label, renderRate());
    pushPoint(s.charts.revenue, label, s.snapshot.revenueCents / 100);
  }

  function renderLag(report) {
    const rows = report.groups.map((group) => {
      const byTopic = new Map();
      for (const p of group.partitions) byTopic.set(p.topic, (byTopic.get(p.topic) ?? 0) + p.lag);
      const row = document.createElement('tr');
      row.dataset.group = group.groupId;
      row.dataset.lagged = String(group.totalLag > 0);
      for (const text of [group.groupId, count.format(group.totalLag), [...byTopic].map(([topic, lag]) => `${topic} ${count.format(lag)}`).join(' · ')]) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    });
    $('#lag tbody').replaceChildren(...rows);
    const caption = $('#lag-caption');
    caption.dataset.state = 'ok';
    caption.textContent = `messages each consumer group has not committed yet · read from Kafka at ${time.format(new Date(report.readAt))}`;
  }

  async function refreshLag() {
    const s = session;
    if (!s || s.viewer.role !== 'ADMIN') return;
    try {
      const { consumerLag } = await graphql(LAG, {}, s.token);
      if (session === s) renderLag(consumerLag);
    } catch (error) {
      if (session !== s) return;
      const caption = $('#lag-caption');
      caption.dataset.state = 'error';
      caption.textContent = `consumer lag unavailable: ${error.message}`;
    }
  }

  // ---- signing in and following the figures ---------------------------------------------------

  /** Fetches the current figures (after a sign-in, a reconnect or a change of scope). */
  async function catchUp(s) {
    const { analytics } = await graphql(ANALYTICS, { restaurantId: s.restaurantId }, s.token);
    if (session !== s) return;
    render(analytics);
    // The time charts start when the figures do, not a tick later.
    if (s.charts.rate.data.labels.length === 0) tick();
  }

  function follow(s) {
    s.unsubscribe?.();
    s.unsubscribe = s.socket.subscribe(
      { query: UPDATES, variables: { restaurantId: s.restaurantId } },
      {
        next: (result) => {
          if (session !== s) return;
          if (result.errors) showProblem(`the live figures stopped: ${describeSocketProblem(result.errors)}`);
          else render(result.data.analyticsUpdated);
        },
        error: (problem) => {
          if (session !== s) return;
          // 4401: the token was refused or has expired; the socket will not come back with it.
          if (problem?.code === 4401) return signOut(`Signed out: ${describeSocketProblem(problem)}. Paste a fresh token.`);
          setConnection('closed', 'disconnected');
          showProblem(`${describeSocketProblem(problem)}. Reload the page or sign in again.`);
        },
        complete: () => undefined,
      },
    );
  }

  function openSocket(s) {
    const url = new URL(GRAPHQL_PATH, location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return graphqlWs.createClient({
      url: url.href,
      connectionParams: { authorization: `Bearer ${s.token}` },
      // Closes the server marks final (4401: token refused or expired; 4429: too many) end the
      // session with a message; anything else (a restart, a network blip) is retried with backoff.
      retryAttempts: Infinity,
      on: {
        connecting: () => session === s && setConnection('connecting', 'connecting…'),
        connected: (_socket, _payload, wasRetry) => {
          if (session !== s) return;
          setConnection('live', 'live');
          showProblem('');
          // Snapshots sent while the socket was down are not replayed: read the figures again.
          if (wasRetry) catchUp(s).catch((error) => showProblem(`could not read the figures: ${error.message}`));
        },
        closed: (event) => {
          if (session !== s) return;
          setConnection('offline', `disconnected (${event.code})`);
          if (event.code !== 1000) showProblem(`${describeSocketProblem(event)}; reconnecting…`);
        },
      },
    });
  }

  async function fillScopePicker(s) {
    const { restaurants } = await graphql(RESTAURANTS, {}, s.token);
    const select = /** @type {HTMLSelectElement} */ ($('#scope'));
    select.replaceChildren(select.options[0]);
    for (const r of restaurants) select.append(new Option(r.name, r.id));
    $('#scope-picker').hidden = false;
  }

  async function changeScope(restaurantId) {
    const s = session;
    s.restaurantId = restaurantId || null;
    s.samples = [];
    s.snapshot = null;
    for (const chart of [s.charts.rate, s.charts.revenue]) setChart(chart, [], []);
    await catchUp(s);
    follow(s);
  }

  function signOut(problem) {
    const s = session;
    session = null;
    if (s) {
      clearInterval(s.timer);
      s.unsubscribe?.();
      s.socket?.dispose();
      for (const chart of Object.values(s.charts)) chart.destroy();
    }
    sessionStorage.removeItem(TOKEN_KEY);
    $('#panels').hidden = true;
    $('#scope-picker').hidden = true;
    $('#sign-out').hidden = true;
    $('#who').textContent = '';
    $('#sign-in').hidden = false;
    setConnection('offline', 'not connected');
    showProblem(problem ?? '');
  }

  async function signIn(token) {
    showProblem('');
    let viewer;
    try {
      ({ me: viewer } = await graphql(ME, {}, token));
    } catch (error) {
      return signOut(`The token was refused: ${error.message} (${error.code}). Paste a valid ADMIN or RESTAURANT token.`);
    }
    if (viewer.role !== 'ADMIN' && viewer.role !== 'RESTAURANT') {
      return signOut(`This is a ${viewer.role} token: the dashboard is for ADMIN or RESTAURANT accounts.`);
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    $('#sign-in').hidden = true;
    $('#panels').hidden = false;
    $('#sign-out').hidden = false;
    $('#who').textContent = viewer.role === 'ADMIN' ? `ADMIN ${viewer.id}` : `RESTAURANT ${viewer.restaurantId}`;
    const s = { token, viewer, restaurantId: null, samples: [], snapshot: null, charts: createCharts(), socket: null, unsubscribe: null, timer: 0 };
    session = s;
    s.socket = openSocket(s);
    s.timer = setInterval(() => {
      tick();
      refreshLag();
    }, TICK_MS);
    $('#lag').hidden = viewer.role !== 'ADMIN';
    if (viewer.role === 'ADMIN') {
      refreshLag();
      fillScopePicker(s).catch((error) => showProblem(`could not list the restaurants: ${error.message}`));
    } else {
      $('#lag-caption').textContent = 'Consumer lag is shown to ADMIN accounts: it is a figure of the whole platform, not of one restaurant.';
    }
    try {
      await catchUp(s);
    } catch (error) {
      return signOut(`Could not read the figures: ${error.message} (${error.code}).`);
    }
    follow(s);
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('#sign-in').addEventListener('submit', (event) => {
      event.preventDefault();
      const token = /** @type {HTMLTextAreaElement} */ ($('#token')).value.trim().replace(/^Bearer\s+/i, '');
      if (token) signIn(token);
    });
    $('#sign-out').addEventListener('click', () => signOut());
    $('#scope').addEventListener('change', (event) => {
      changeScope(/** @type {HTMLSelectElement} */ (event.target).value).catch((error) => showProblem(`could not read the figures: ${error.message}`));
    });
    // A token pasted earlier in this tab wins; otherwise the development start's demo token.
    const token = sessionStorage.getItem(TOKEN_KEY) || metaContent('dashboard-token');
    if (token) signIn(token);
    else signOut();
  });
})();
