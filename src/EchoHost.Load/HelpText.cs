namespace EchoHost.Load;

internal static class HelpText
{
    public const string Text = """
        echohost-load: a load client for any TCP, UDP or WebSocket echo server (RFC 862, RFC 6455) and any line
        chat server (EchoHost chat or IRC, over TCP or WebSocket), and the benchmark that measures EchoHost against
        a bare baseline.

        Usage:
          echohost-load MODE [options]
          echohost-load benchmark [benchmark options]
          echohost-load --help

        Modes (an "op" is what the throughput and the latency count):
          pingpong  Request/response. Each connection sends a --size message, reads the whole echo, checks it,
                    sends the next. op = one message echoed; latency = send to last echoed byte.
          stream    Bulk. Each connection writes --size writes as fast as the server takes them while reading the
                    echo; at the end it shuts down its sending side (half-close) and reads until the server closes;
                    the echo must be exactly as long as what was sent. op = one write echoed in full.
          churn     Connection rate. Each of --connections workers connects, sends --size bytes, half-closes, reads
                    the echo until the server closes, checks it, closes; then again. op = one connection.
          hold      Idle connections. Opens --connections connections (256 connects at a time, spread over
                    --sources), holds them silent for --duration, then checks each one still echoes a --size
                    message. op = one connection opened; latency = connect time. No warm-up.
          udp       Datagram ping-pong. Each of --connections sockets sends a --size datagram (an 8-byte sequence
                    number, then the pattern) and waits for its echo. No reply within --timeout is a lost datagram;
                    a late reply to an earlier datagram is counted and skipped. op = one datagram echoed.
          chat      Chat fan-out. --connections users join one room; once all are in, they send lines in turn at
                    --rate lines/s in all; every user checks every line from the others (content, sequence, no
                    loss, no duplicate, order per sender) and times its delivery. op = one delivery.
                    --dialect echohost: EchoHost's chat (users land in lobby with guest nicks; "/join ROOM" for
                    another --room; lines "<nick> text"). --dialect irc: NICK, USER, JOIN, PRIVMSG, PING/PONG.
                    EchoHost's flood control allows 5 lines/s per user (burst 20): keep --rate / --connections
                    below 5.

        WebSocket: pingpong and chat run over WebSocket when --target is a URL, ws://HOST:PORT/PATH (wss:// for
        TLS). pingpong sends each message as one binary message and checks that the echo is one binary message,
        byte for byte; default path /ws/echo. chat sends each line as one text message and reads one line per text
        message; default path /ws/chat (--dialect irc: /ws/irc, offering subprotocol text.ircv3.net). No Origin
        header is sent (not a browser); the server's refusal of the upgrade is reported with its status and text.

        Every echoed byte is checked. Each connection sends a deterministic pseudo-random byte stream of its own
        (all 256 byte values), so a wrong, missing, extra or foreign byte is reported with its offset.

        Options (defaults per mode: pingpong 16 connections x 64 B, stream 4 x 65536 B, churn 16 x 32 B,
        hold 1000 x 16 B, udp 16 x 512 B, chat 50 users x 64 B at 0.4 lines/s per user):
          --target HOST:PORT  The server. Default localhost:65432 (udp: localhost:65400, chat: localhost:65433,
                              chat --dialect irc: localhost:6667). IPv6: [::1]:7. localhost means 127.0.0.1.
                              chat: several servers, comma-separated (a:1,b:2): user i connects to the i-th
                              mod count, e.g. instances sharing one chat; each must still see every line.
                              pingpong and chat: ws://HOST:PORT/PATH or wss://… for WebSocket (above); chat
                              may mix them with TCP targets, all users in one room.
          --tls               TCP modes: TLS 1.2/1.3 over every connection (SslStream; SNI = the --target host).
                              The server's certificate is not checked (self-signed test certificates work).
          --tls-verify        As --tls, and the certificate must be valid for the --target host (wss:// too).
          --connections N     Connections (udp: sockets; chat: users).
          --size BYTES        Message, write, datagram (8-65507) or chat text (40-8192) size; 1k = 1024, 1m = 1 MiB.
          --duration TIME     Length of the measured phase (hold: how long the connections are held). Default 10s.
                              TIME is seconds (2.5) or 500ms, 10s, 2m.
          --count N           Instead of a duration: this many ops in all (chat: lines sent), then stop.
          --rate R            Ops per second over all connections (chat: lines per second over all users);
                              default: as fast as possible (chat: 0.4 per user; udp: 8000 per source address, under
                              EchoHost's default per-source limit of 10,000/s). Latency is measured from when an
                              op was due, so a server stall shows up as latency, not as fewer samples.
          --warmup TIME       Run this long before measuring (not counted; errors still are). Default 0.
          --sources LIST      Source addresses to connect from, in turn: 127.0.0.2-127.0.0.9 or 127.0.0.2-9 or
                              127.0.0.2,127.0.0.3. On Linux all of 127.0.0.0/8 is loopback, so a server's per-IP
                              limit can stay on while many connections are held.
          --timeout TIME      An op (or connect) not done within it is an error; udp: a datagram not answered
                              within it is lost. Default 10s (udp 1s).
          --allow-loss        udp: lost datagrams are reported but do not fail the run.
          --dialect D         chat: echohost (default) or irc.
          --room NAME         chat: the room. Default lobby (irc: #load).
          --json              Print the summary as JSON (same fields).
          --progress          Live progress on stderr even when stderr is not a terminal (it is shown on a terminal).

        Output: ops, throughput (ops/s and bytes/s), latency percentiles p50/p90/p99/p99.9/max in microseconds
        (HDR-style histogram, within 1.6 %), errors, mismatches; udp: lost and late; chat: lines sent, deliveries
        made of expected, missing, duplicated, out of order. The first error is named.
        Fairness (every mode but hold, with more than one connection): the most-served connection's count over the
        least-served's, counted in the measured phase: messages echoed (pingpong), bytes echoed (stream),
        connections completed per worker (churn), datagrams echoed per socket (udp), deliveries received per user
        (chat). 1.00 is even; a connection that got nothing makes it ∞ (JSON: "ratio": 1000000000 and
        "isUnbounded": true, with "most", "least" and "unit" beside it).
        Exit code: 0 all good; 1 any error, mismatch, lost datagram (unless --allow-loss), missing or duplicated
        delivery; 2 bad arguments.

        Examples:
          echohost-load pingpong --target localhost:65432 --connections 64 --size 64 --duration 10s --warmup 2s
          echohost-load stream --connections 8 --size 64k --duration 10s
          echohost-load churn --connections 16 --duration 10s --json
          echohost-load hold --connections 10000 --sources 127.0.0.2-127.0.0.11 --duration 30s
          echohost-load udp --target localhost:65400 --connections 32 --size 512 --duration 10s
          echohost-load chat --target localhost:65433 --connections 500 --rate 200 --duration 10s
          echohost-load chat --dialect irc --target localhost:6667 --connections 100 --rate 40
          echohost-load pingpong --tls --target localhost:65442 --connections 64 --duration 10s
          echohost-load chat --target localhost:65433,localhost:65533 --connections 500 --rate 200
          echohost-load pingpong --target ws://localhost:8081/ws/echo --connections 64 --duration 10s
          echohost-load chat --target ws://localhost:8081/ws/chat,localhost:65433 --connections 100 --rate 40
          Any echo server works, e.g. socat:  socat TCP-LISTEN:7007,fork,reuseaddr EXEC:cat
            then:  echohost-load pingpong --target 127.0.0.1:7007 --connections 4
          or ncat: ncat -l -k 127.0.0.1 7007 -e /bin/cat  (one process per connection)

        Benchmark (builds nothing; src/EchoHost.Load/benchmark.sh builds in Release and runs it):
          echohost-load benchmark [--rounds N] [--duration TIME] [--warmup TIME] [--first-warmup TIME] [--quick] [--json]
                                  [--only ROWS] [--hold N] [--progress] [--echohost PATH] [--baseline PATH] [--inspircd PATH]
          Starts the bare baseline (EchoHost.Baseline.dll tcp and udp, and ws for ws-echo), the plain socket floor
          (EchoHost.Baseline.dll socket: a .NET Socket accept and receive/send loop, with
          DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1) and EchoHost (EchoHost.dll, with the appsettings.json beside
          it, only MaxConnectionsPerIp raised) on free ports below 32768, runs every load against each in turn (the
          floor for pingpong1, pingpong64, pingpong1k, stream, churn and hold), reads each server's CPU time and RSS
          from /proc, and prints a Markdown table of the medians over the rounds with the EchoHost/baseline and
          EchoHost/floor ratios, plus the machine it ran on. Multi-connection echo loads and chat also show each
          server's fairness (above).
          --rounds N        Rounds (default 3); the table shows each side's median, and the ratio as the
                            median of the rounds' ratios (both sides of a round run one after the other)
                            with the lowest and highest round's in brackets.
          --duration TIME   Measured time per load (default 10s); --warmup TIME before each (default 2s).
          --first-warmup TIME  The warm-up of each load in round 1 instead (default 10s): a fresh server
                            compiles its code under the first loads, which a steady-state figure leaves out.
          --quick           Tiny loads, 1 round, about 1 s each: a smoke test of the whole benchmark.
          --only ROWS       Comma-separated rows: pingpong1, pingpong64, pingpong1k, tls, stream, churn, hold, udp,
                            chat, chat-irc, chat-scaleout, ws-echo, ws-chat (tls and ws-echo also run pingpong64,
                            chat-scaleout and ws-chat also chat: they compare with them).
          --hold N          Idle connections in the hold row (default 10000).
          --echohost PATH   EchoHost.dll (default: beside echohost-load.dll).
          --baseline PATH   EchoHost.Baseline.dll (default: beside echohost-load.dll).
          --inspircd PATH   The InspIRCd binary for the chat anchor (default: inspircd on PATH or /usr/sbin).
          --json            The table as JSON.
          --progress        Each load's live progress line on stderr (one line per load is always printed there).
          tls: pingpong over TLS against the baseline with Kestrel's UseHttps and EchoHost's EchoTls listener
          (a self-signed certificate made for the run), plus EchoHost TLS against EchoHost plain (pingpong64).
          chat-irc: the chat load in the IRC dialect on both sides, EchoHost's Irc listener (on a port of its
          own) against InspIRCd.
          ws-echo: pingpong over WebSocket, EchoHost's Web listener (/ws/echo) against the bare ASP.NET Core
          WebSocket echo (EchoHost.Baseline.dll ws: UseWebSockets and a receive/send loop), plus EchoHost over
          WebSocket against EchoHost over TCP (pingpong64).
          ws-chat: the chat load over WebSocket (/ws/chat), against EchoHost's TCP chat in the chat row.
          chat-scaleout: a PostgreSQL of its own (initdb, fsync off) and two more EchoHost instances on it, the
          chat load's users split between them; figures against the single-instance chat row.
          Without InspIRCd the chat anchor row says: not installed: sudo apt-get install inspircd
          Without PostgreSQL the chat-scaleout row says: not installed: sudo apt-get install postgresql
          A row with any error, mismatch, lost datagram or missing delivery makes the exit code 1.

        """;
}
