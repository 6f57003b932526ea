// The demo's chat page: personas on the left, one conversation on the right, live by SSE.
// Plain JavaScript, no build step. Message HTML arrives already sanitised by the server
// (bot/demo/html.py keeps Telegram's subset only).
"use strict";

const TOKEN = document.querySelector('meta[name="demo-token"]').content;
const $ = (id) => document.getElementById(id);
const state = {
  personas: [], groups: [], chats: {}, unread: {}, current: null, acting: null,
  clock: null, toastTimer: null,
};

async function post(path, body) {
  const options = { method: "POST", headers: { "X-Demo-Token": TOKEN } };
  if (body instanceof FormData) {
    options.body = body;
  } else {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) toast(data.error || `请求失败（${response.status}）`);
  return data;
}

function escapeText(text) {
  const div = document.createElement("div");
  div.textContent = text;
  return div.innerHTML;
}

function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(state.toastTimer);
  state.toastTimer = setTimeout(() => { box.hidden = true; }, 3500);
}

// --- the side bar -------------------------------------------------------------------------

function conversationButton(id, title, subtitle, key) {
  const li = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "conv";
  button.dataset.chat = String(id);
  if (key) button.dataset.persona = key;
  button.innerHTML = `<span class="who">${escapeText(title)}<small>${escapeText(subtitle)}</small></span>` +
    `<span class="badge" hidden></span>`;
  button.addEventListener("click", () => openChat(id));
  li.appendChild(button);
  return li;
}

function renderSidebar() {
  const personas = $("personas");
  personas.innerHTML = "";
  for (const p of state.personas) {
    personas.appendChild(conversationButton(p.id, `${p.name}（${p.role}）`, p.unit, p.key));
  }
  const groups = $("groups");
  groups.innerHTML = "";
  for (const g of state.groups) {
    groups.appendChild(conversationButton(g.id, g.title, "群聊：预警与通报"));
  }
}

function markSidebar() {
  for (const button of document.querySelectorAll("button.conv")) {
    const id = Number(button.dataset.chat);
    button.classList.toggle("active", id === state.current);
    const badge = button.querySelector(".badge");
    const count = state.unread[id] || 0;
    badge.hidden = count === 0;
    badge.textContent = String(count);
  }
}

// --- conversations ------------------------------------------------------------------------

function personaById(id) { return state.personas.find((p) => p.id === id); }
function groupById(id) { return state.groups.find((g) => g.id === id); }

async function loadChat(id) {
  const response = await fetch(`/api/chats/${id}`);
  const data = await response.json();
  state.chats[id] = { messages: data.messages, keyboard: data.keyboard, commands: data.commands };
}

async function openChat(id) {
  state.current = id;
  const persona = personaById(id);
  const group = groupById(id);
  if (persona) state.acting = persona.id;
  if (group && !group.members.includes(state.acting)) state.acting = group.members[0];
  state.unread[id] = 0;
  await loadChat(id);
  $("chat-title").textContent = persona ? `${persona.name}（${persona.role}）与机器人` : group.title;
  const actor = personaById(state.acting);
  $("chat-sub").textContent = group && actor ? `以 ${actor.name} 的身份发言；群里只处理发给机器人的命令` : (persona && persona.unit) || "";
  if (pendingJoin && persona && persona.key === "newcomer") {
    const token = pendingJoin;
    pendingJoin = null;
    await sendText(`/start ${token}`);
  }
  markSidebar();
  renderMessages();
  $("composer-text").focus();
}

function renderMessages() {
  const box = $("messages");
  box.innerHTML = "";
  const chat = state.chats[state.current];
  if (!chat) return;
  for (const message of chat.messages) box.appendChild(messageElement(message));
  box.scrollTop = box.scrollHeight;
  renderReplyKeyboard(chat.keyboard);
}

function messageElement(m) {
  const div = document.createElement("div");
  div.className = `msg ${m.from_bot ? "bot" : "user"}`;
  div.dataset.messageId = String(m.message_id);
  div.dataset.from = m.from_bot ? "bot" : "user";
  let html = "";
  if (state.current < 0) html += `<div class="sender">${escapeText(m.sender)}</div>`;
  if (m.file && m.kind === "photo") {
    html += `<a href="/files/${m.file.id}" target="_blank"><img src="/files/${m.file.id}" alt="${escapeText(m.file.name)}"></a>`;
  } else if (m.file) {
    html += `<a class="file" href="/files/${m.file.id}?download=1" download="${escapeText(m.file.name)}">📄 ${escapeText(m.file.name)}</a>\n`;
  }
  html += `<div class="text">${linkDeepLinks(m.html)}</div>`;
  const time = new Date(m.date * 1000).toLocaleString("zh-CN", { timeZone: state.clock ? state.clock.timezone : undefined });
  html += `<div class="meta">${m.edited ? "已编辑 · " : ""}${escapeText(time)}</div>`;
  div.innerHTML = html;
  if (m.inline_keyboard) div.appendChild(inlineKeyboard(m));
  return div;
}

// Invitation links (https://t.me/<bot>?start=<token>) stay on the page: clicking one joins as
// the newcomer persona, as a colleague would by opening it in Telegram.
const DEEP_LINK = /(?<!href=")https:\/\/t\.me\/[A-Za-z0-9_]+\?start=[\w-]+/g;
let pendingJoin = null;

function linkDeepLinks(html) {
  return html.replace(DEEP_LINK, (url) => `<a href="${url}">${url}</a>`);
}

$("messages").addEventListener("click", async (event) => {
  const a = event.target.closest("a");
  if (!a || !/^https:\/\/t\.me\//.test(a.href)) return;
  event.preventDefault();
  const match = a.href.match(/\?start=([\w-]+)/);
  const newcomer = state.personas.find((p) => p.key === "newcomer");
  if (!match || !newcomer) { toast("演示中不打开 Telegram 链接"); return; }
  pendingJoin = match[1];
  toast("以“新同事”的身份打开邀请链接");
  await openChat(newcomer.id);
});

function inlineKeyboard(m) {
  const keyboard = document.createElement("div");
  keyboard.className = "keyboard";
  for (const row of m.inline_keyboard) {
    const line = document.createElement("div");
    line.className = "row";
    for (const b of row) {
      if (b.url) {
        const a = document.createElement("a");
        a.className = "button";
        a.href = b.url;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        a.textContent = `${b.text} ↗`;
        line.appendChild(a);
        continue;
      }
      const button = document.createElement("button");
      button.type = "button";
      button.className = "inline-btn";
      button.textContent = b.text;
      button.addEventListener("click", async () => {
        button.disabled = true;
        await post("/api/press", { persona: state.acting, chat: state.current, message_id: m.message_id, data: b.callback_data || "" });
        button.disabled = false;
      });
      line.appendChild(button);
    }
    keyboard.appendChild(line);
  }
  return keyboard;
}

function renderReplyKeyboard(rows) {
  const box = $("reply-keyboard");
  box.innerHTML = "";
  if (!rows) return;
  for (const row of rows) {
    const line = document.createElement("div");
    line.className = "row";
    for (const label of row) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      button.addEventListener("click", () => sendText(label));
      line.appendChild(button);
    }
    box.appendChild(line);
  }
}

// --- sending ------------------------------------------------------------------------------

async function sendText(text) {
  if (state.current === null || !text.trim()) return;
  await post("/api/send", { persona: state.acting, chat: state.current, text });
}

$("composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("composer-text");
  const text = input.value;
  input.value = "";
  $("commands-menu").hidden = true;
  await sendText(text);
});

$("file").addEventListener("change", async () => {
  const input = $("file");
  if (!input.files.length || state.current === null) return;
  const form = new FormData();
  form.append("persona", String(state.acting));
  form.append("chat", String(state.current));
  form.append("caption", $("composer-text").value);
  form.append("file", input.files[0]);
  $("composer-text").value = "";
  input.value = "";
  await post("/api/upload", form);
});

$("commands-button").addEventListener("click", () => {
  const menu = $("commands-menu");
  const chat = state.chats[state.current];
  menu.innerHTML = "";
  for (const c of (chat && chat.commands) || []) {
    const button = document.createElement("button");
    button.type = "button";
    button.innerHTML = `<b>/${escapeText(c.command)}</b> — ${escapeText(c.description)}`;
    button.addEventListener("click", () => { menu.hidden = true; sendText(`/${c.command}`); });
    menu.appendChild(button);
  }
  menu.hidden = !menu.hidden || !menu.children.length;
});

// --- the clock ----------------------------------------------------------------------------

function setClock(event) {
  state.clock = { base: Date.parse(event.now), at: performance.now(), speed: event.speed, timezone: event.timezone };
  $("speed").textContent = event.speed === 1 ? "实时" : `倍速 ×${event.speed}`;
  tickClock();
}

function tickClock() {
  if (!state.clock) return;
  const c = state.clock;
  const now = new Date(c.base + (performance.now() - c.at) * c.speed);
  $("clock").textContent = now.toLocaleString("zh-CN", { timeZone: c.timezone, hour12: false });
}
setInterval(tickClock, 1000);

for (const button of document.querySelectorAll(".jump button")) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    const body = button.dataset.days ? { days: Number(button.dataset.days) } : { hours: Number(button.dataset.hours) };
    const result = await post("/api/clock", body);
    if (result.ok) toast(`时间已快进，现在是 ${new Date(result.now).toLocaleString("zh-CN", { timeZone: result.timezone, hour12: false })}`);
    button.disabled = false;
  });
}

// --- live updates -------------------------------------------------------------------------

function onEvent(event) {
  if (event.type === "clock") { setClock(event); return; }
  if (event.type === "toast") { toast(event.text); return; }
  if (event.type === "message" || event.type === "edit") {
    const m = event.message;
    const chat = state.chats[m.chat_id];
    if (chat) {
      const index = chat.messages.findIndex((x) => x.message_id === m.message_id);
      if (index >= 0) chat.messages[index] = m; else chat.messages.push(m);
    }
    if (m.chat_id === state.current) {
      const box = $("messages");
      const old = box.querySelector(`[data-message-id="${m.message_id}"]`);
      const element = messageElement(m);
      if (old) old.replaceWith(element); else { box.appendChild(element); box.scrollTop = box.scrollHeight; }
    } else if (event.type === "message" && m.from_bot) {
      state.unread[m.chat_id] = (state.unread[m.chat_id] || 0) + 1;
      markSidebar();
    }
    return;
  }
  if (event.type === "delete") {
    const chat = state.chats[event.chat_id];
    if (chat) chat.messages = chat.messages.filter((x) => x.message_id !== event.message_id);
    if (event.chat_id === state.current) {
      const old = $("messages").querySelector(`[data-message-id="${event.message_id}"]`);
      if (old) old.remove();
    }
    return;
  }
  if (event.type === "keyboard") {
    const chat = state.chats[event.chat_id];
    if (chat) chat.keyboard = event.rows;
    if (event.chat_id === state.current) renderReplyKeyboard(event.rows);
    return;
  }
  if (event.type === "commands") {
    const chat = state.chats[event.chat_id];
    if (chat) chat.commands = event.commands;
  }
}

async function boot() {
  const response = await fetch("/api/state");
  const data = await response.json();
  state.personas = data.personas;
  state.groups = data.groups;
  setClock(data.clock);
  renderSidebar();
  const source = new EventSource("/api/events");
  source.onmessage = (message) => onEvent(JSON.parse(message.data));
  source.onopen = () => document.body.dataset.live = "1";
  await openChat(state.personas[0].id);
}

boot();
