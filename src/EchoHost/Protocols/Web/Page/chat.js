// EchoHost's browser chat: the line chat over /ws/chat, one text message per line each way, in the same rooms as nc,
// telnet and IRC users. The server speaks to people, not programs, so the page reads its notices (docs/protocols.md,
// "The chat protocol") to keep the names and room lists; it asks /who and /rooms itself and hides those answers.
// User text is only ever set with textContent: a message is never markup.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const MAX_LINES = 1000;
  const MAX_PAGES = 50;
  const notice = {
    welcome: /^\*\*\* Welcome to EchoHost chat, (\S+?)! /,
    inRoom: /^\*\*\* You are now in (\S+) \((\d+) here\)$/,
    youAre: /^\*\*\* You are now known as (\S+)$/,
    joined: /^\*\*\* (\S+) joined (\S+)$/,
    left: /^\*\*\* (\S+) left (\S+) \(.*\)$/,
    renamed: /^\*\*\* (\S+) is now known as (\S+)$/,
    // "*** lobby (3): ana, bob" and "*** lobby (950), page 2: ..." (/who); "*** Rooms (2): games (1), lobby (3)" (/rooms).
    list: /^\*\*\* (\S+) \((\d+)\)(?:, page (\d+))?: (.*)$/,
    more: / \.\.\. and \d+ more; \/(?:who|rooms) (\d+) for the next page$/,
    noPage: /^!!! There is no page \d+: \/(who|rooms) has/,
    flood: /^!!! Flood control/,
  };

  let socket = null;
  let me = '';
  let wantedNick = '';
  let room = '';
  let names = [];
  let rooms = [];
  let pending = []; // /who and /rooms sent, answered in order: { kind, hidden, items }
  const sent = [];
  let sentIndex = 0;

  const same = (a, b) => a.toLowerCase() === b.toLowerCase();
  const byName = (a, b) => a.localeCompare(b, undefined, { sensitivity: 'base' });

  function setStatus(text) {
    $('status').textContent = text;
  }

  function connect() {
    wantedNick = $('nick').value.trim();
    try { localStorage.setItem('echohost.nick', wantedNick); } catch { /* private mode */ }
    me = ''; room = ''; names = []; rooms = []; pending = [];
    $('log').replaceChildren();
    renderNames(); renderRooms();
    setStatus('Connecting…');
    $('join-button').disabled = true;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let opened = false;
    socket = new WebSocket(`${scheme}//${location.host}/ws/chat`);
    socket.addEventListener('open', () => {
      opened = true;
      $('join-view').hidden = true;
      $('ended').hidden = true;
      $('chat-view').hidden = false;
      $('say').focus();
    });
    socket.addEventListener('message', (event) => {
      if (typeof event.data === 'string') {
        for (const line of event.data.split(/\r?\n/)) {
          if (line.length > 0) onLine(line);
        }
      }
    });
    socket.addEventListener('close', (event) => ended(event.reason
      || (!opened ? 'the chat could not be reached.' : event.wasClean ? 'the server closed the chat.' : 'the connection was lost.')));
  }

  function send(line) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(line);
  }

  function ask(kind, page, hidden) {
    pending.push({ kind, hidden });
    send(page > 1 ? `/${kind} ${page}` : `/${kind}`);
  }

  function onLine(line) {
    let m;
    if (line === '%end%') return;
    if ((m = notice.list.exec(line)) && onList(m, line)) return;
    if ((m = notice.noPage.exec(line)) && pending.length > 0) {
      const query = pending.shift();
      if (query.hidden) return;
    } else if (notice.flood.test(line)) {
      pending = []; // a dropped query would never be answered
    } else if ((m = notice.welcome.exec(line))) {
      setMe(m[1]);
      if (wantedNick && wantedNick !== m[1]) send(`/nick ${wantedNick}`);
    } else if ((m = notice.inRoom.exec(line))) {
      room = m[1];
      names = [me];
      $('room-name').textContent = room;
      $('say-room').textContent = room;
      document.title = `${room} – EchoHost chat`;
      renderNames();
      ask('who', 1, true);
      ask('rooms', 1, true);
      setStatus(`Connected as ${me} in ${room}`);
    } else if ((m = notice.youAre.exec(line))) {
      rename(me, m[1]);
      setMe(m[1]);
    } else if ((m = notice.joined.exec(line)) && same(m[2], room)) {
      if (!names.some((n) => same(n, m[1]))) names.push(m[1]);
      countRoom(+1);
      renderNames();
    } else if ((m = notice.left.exec(line)) && same(m[2], room)) {
      names = names.filter((n) => !same(n, m[1]));
      countRoom(-1);
      renderNames();
    } else if ((m = notice.renamed.exec(line))) {
      rename(m[1], m[2]);
    }
    show(line);
  }

  // A /who or /rooms answer: kept in the lists, shown only when the person asked. True when it was hidden.
  function onList(m, line) {
    const [, title, , pageText, rest] = m;
    const page = pageText ? Number(pageText) : 1;
    const query = pending.length > 0 ? pending.shift()
      : { kind: same(title, room) ? 'who' : title === 'Rooms' ? 'rooms' : '', hidden: false };
    const more = notice.more.exec(rest);
    const items = (more ? rest.slice(0, more.index) : rest).split(', ').filter((s) => s.length > 0);
    query.items = (page === 1 ? [] : query.items || []).concat(items);
    if (more && query.hidden && page < MAX_PAGES) {
      pending.unshift({ kind: query.kind, hidden: true, items: query.items });
      send(`/${query.kind} ${more[1]}`);
    } else if (query.hidden || (page === 1 && !more)) {
      // Only a whole list replaces what is shown: a page the person asked for is one part of it.
      if (query.kind === 'who' && same(title, room)) {
        names = query.items;
        renderNames();
      } else if (query.kind === 'rooms') {
        rooms = query.items.map((item) => /^(\S+) \((\d+)\)$/.exec(item)).filter(Boolean).map(([, name, n]) => ({ name, count: Number(n) }));
        renderRooms();
      }
    }
    if (!query.hidden) show(line);
    return true;
  }

  function setMe(nick) {
    me = nick;
    if (room) setStatus(`Connected as ${me} in ${room}`);
  }

  function rename(from, to) {
    const i = names.findIndex((n) => same(n, from));
    if (i >= 0) {
      names[i] = to;
      renderNames();
    }
  }

  function countRoom(delta) {
    const entry = rooms.find((r) => same(r.name, room));
    if (entry) {
      entry.count = Math.max(0, entry.count + delta);
      renderRooms();
    }
  }

  function renderNames() {
    const list = $('names');
    list.replaceChildren(...[...names].sort(byName).map((nick) => {
      const li = document.createElement('li');
      if (same(nick, me)) {
        li.textContent = `${nick} (you)`;
        li.className = 'self';
      } else {
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = nick;
        button.setAttribute('aria-label', `Private message to ${nick}`);
        button.addEventListener('click', () => prefill(`/msg ${nick} `));
        li.append(button);
      }
      return li;
    }));
    $('names-count').textContent = String(names.length);
  }

  function renderRooms() {
    $('rooms').replaceChildren(...[...rooms].sort((a, b) => byName(a.name, b.name)).map((r) => {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = `${r.name} (${r.count})`;
      if (same(r.name, room)) button.setAttribute('aria-current', 'true');
      button.addEventListener('click', () => joinRoom(r.name));
      li.append(button);
      return li;
    }));
  }

  function joinRoom(name) {
    if (!same(name, room)) send(`/join ${name}`);
    $('say').focus();
  }

  function prefill(text) {
    const say = $('say');
    say.value = text;
    say.focus();
    say.setSelectionRange(text.length, text.length);
  }

  // One line in the log, its parts as text nodes: "<nick> text", "* nick action", notices, errors, history.
  function show(line, own) {
    const li = document.createElement('li');
    let text = line;
    const stamp = /^\[(\d\d:\d\d:\d\d)\] (.*)$/.exec(text);
    if (stamp) {
      li.classList.add('history');
      const time = document.createElement('time');
      time.textContent = stamp[1];
      time.title = 'UTC';
      li.append(time, ' ');
      text = stamp[2];
    }
    let m;
    if (text.startsWith('*** ')) li.classList.add('notice');
    else if (text.startsWith('!!! ')) li.classList.add('error');
    else if ((m = /^<(\S+)> (.*)$/s.exec(text))) {
      li.classList.add('message');
      text = null;
      li.append(nickSpan(`<${m[1]}>`), ' ', m[2]);
    } else if ((m = /^\* (\S+) (.*)$/s.exec(text))) {
      li.classList.add('action');
    } else if ((m = /^\[msg (?:from|to) \S+\] /.exec(text))) {
      li.classList.add('private');
    }
    if (own) li.classList.add('self');
    if (text !== null) li.append(text);
    const log = $('log');
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.append(li);
    while (log.childElementCount > MAX_LINES) log.firstElementChild.remove();
    if (atBottom || own) log.scrollTop = log.scrollHeight;
  }

  function nickSpan(text) {
    const span = document.createElement('span');
    span.className = 'nick';
    span.textContent = text;
    return span;
  }

  function say(line) {
    if (line.trim().length === 0) return;
    sent.push(line);
    if (sent.length > 50) sent.shift();
    sentIndex = sent.length;
    const command = /^\/(who|rooms)(?:\s|$)/i.exec(line.trim());
    if (command) pending.push({ kind: command[1].toLowerCase(), hidden: false });
    send(line);
    // The server does not send people their own messages back.
    const trimmed = line.trim();
    if (trimmed.startsWith('//')) show(`<${me}> ${trimmed.slice(1)}`, true);
    else if (/^\/me\s+\S/i.test(trimmed)) show(`* ${me} ${trimmed.replace(/^\/me\s+/i, '')}`, true);
    else if (!trimmed.startsWith('/') && trimmed !== '%end%') show(`<${me}> ${line}`, true);
  }

  function ended(reason) {
    socket = null;
    $('join-button').disabled = false;
    setStatus('Not connected');
    document.title = 'EchoHost chat';
    $('ended-text').textContent = `Disconnected: ${reason}`;
    $('ended').hidden = false;
    $('reconnect').focus();
  }

  document.addEventListener('DOMContentLoaded', () => {
    try { $('nick').value = localStorage.getItem('echohost.nick') || ''; } catch { /* private mode */ }
    if (matchMedia('(max-width: 40rem)').matches) {
      $('people').open = false;
      $('room-list').open = false;
    }
    $('join-form').addEventListener('submit', (event) => {
      event.preventDefault();
      connect();
    });
    $('say-form').addEventListener('submit', (event) => {
      event.preventDefault();
      say($('say').value);
      $('say').value = '';
    });
    $('say').addEventListener('keydown', (event) => {
      // Up and down recall what you sent, as in a terminal.
      if ((event.key === 'ArrowUp' || event.key === 'ArrowDown') && sent.length > 0) {
        sentIndex = Math.min(sent.length, Math.max(0, sentIndex + (event.key === 'ArrowUp' ? -1 : 1)));
        prefill(sent[sentIndex] ?? '');
        event.preventDefault();
      }
    });
    $('room-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const name = $('new-room').value.trim();
      $('new-room').value = '';
      if (name) joinRoom(name);
    });
    $('rooms-refresh').addEventListener('click', () => ask('rooms', 1, true));
    // Other rooms' counts change unseen: opening the list asks again.
    $('room-list').addEventListener('toggle', () => { if ($('room-list').open && room) ask('rooms', 1, true); });
    $('leave').addEventListener('click', () => send('/quit'));
    $('reconnect').addEventListener('click', () => {
      $('ended').hidden = true;
      $('chat-view').hidden = true;
      $('join-view').hidden = false;
      $('nick').focus();
    });
  });
})();
