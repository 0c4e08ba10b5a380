// An independent voice client for the e2e suite: @discordjs/voice joins a
// discord-sim voice channel with credentials the test got from the sim's
// main gateway, plays a generated tone (Opus through opusscript, DAVE
// through @snazzah/davey) and decodes what one simulated participant sends.
//
// Usage: node peer.js '<json>' where json is
//   { guild_id, channel_id, user_id, session_id, endpoint, token,
//     listen_to, duration_ms, play_raw?, play_delay_ms? }
// (snowflakes as strings). With `play_raw` (a file of 48 kHz stereo s16le
// PCM) the peer says that file once, `play_delay_ms` after Ready, instead
// of playing the endless tone; `played` is emitted when it is done. The sim's CA comes from NODE_EXTRA_CA_CERTS.
//
// Stdout: one JSON object per line, {"event": ...}:
//   ready                       the voice connection reached Ready
//   mode {mode}                 the negotiated transport encryption mode
//   dave {epoch, protocolVersion, ready, status}  on every change
//   transitioned {id}           a DAVE transition executed
//   speaking {user}             the receiver saw a user's packets start
//   decoded {user, frames, rms, daveReady, encryptedBeforeReady,
//            encryptedAfterReady}  every 25 decoded Opus frames of
//                               listen_to (rms of those 25 frames, full
//                               scale = 1; frames still DAVE-encrypted)
//   sent {packets}              every second: Opus packets played
//   rejoin / error {message} / closed {code}  anything going wrong
//   done {...}                  the summary, then exit 0
// Stderr: @discordjs/voice's debug log.
'use strict';

const { Readable } = require('node:stream');
const voice = require('@discordjs/voice');
const OpusScript = require('opusscript');

const cfg = JSON.parse(process.argv[2] ?? '{}');
for (const k of ['guild_id', 'channel_id', 'user_id', 'session_id', 'endpoint', 'token']) {
  if (typeof cfg[k] !== 'string' || cfg[k] === '') {
    process.stderr.write(`peer: missing string field ${k}\n`);
    process.exit(2);
  }
}
const durationMs = Number(cfg.duration_ms ?? 20000);

function emit(event, fields = {}) {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

// The adapter stands in for a Discord gateway library: @discordjs/voice
// sends its op 4 through sendPayload and waits for VOICE_STATE_UPDATE and
// VOICE_SERVER_UPDATE. The test already joined through the sim's gateway,
// so the answer is the credentials it passed. A second join (the library
// re-joins after a voice WebSocket close other than 4014) is reported and
// answered with the same credentials.
let joins = 0;
function adapterCreator(methods) {
  return {
    sendPayload(payload) {
      if (payload?.d?.channel_id == null) return true;
      joins += 1;
      if (joins > 1) emit('rejoin', { n: joins - 1 });
      // At most 5 re-joins, half a second apart: then the adapter refuses
      // and the connection goes to Disconnected (AdapterUnavailable).
      if (joins > 6) return false;
      setTimeout(() => {
        methods.onVoiceStateUpdate({
          guild_id: cfg.guild_id,
          channel_id: cfg.channel_id,
          user_id: cfg.user_id,
          session_id: cfg.session_id,
          self_deaf: false,
          self_mute: false,
        });
        methods.onVoiceServerUpdate({
          guild_id: cfg.guild_id,
          token: cfg.token,
          endpoint: cfg.endpoint,
        });
      }, joins > 1 ? 500 : 0);
      return true;
    },
    destroy() {},
  };
}

const connection = voice.joinVoiceChannel({
  guildId: cfg.guild_id,
  channelId: cfg.channel_id,
  adapterCreator,
  selfDeaf: false,
  selfMute: false,
  daveEncryption: true,
  debug: true,
});
connection.on('debug', (m) => process.stderr.write(`${m}\n`));
connection.on('error', (e) => emit('error', { message: String(e?.stack ?? e) }));
connection.on('transitioned', (id) => emit('transitioned', { id }));

function networkingState() {
  const s = connection.state;
  return s.status === voice.VoiceConnectionStatus.Ready ? s.networking?.state : undefined;
}

let lastCloseCode = null;
connection.on('stateChange', (oldS, newS) => {
  process.stderr.write(`peer: connection ${oldS.status} -> ${newS.status}\n`);
  if (newS.status === voice.VoiceConnectionStatus.Disconnected) {
    lastCloseCode = newS.closeCode ?? null;
    emit('closed', { code: lastCloseCode, reason: newS.reason });
  }
});

// A 330 Hz tone at -10 dBFS, 48 kHz stereo s16le, made on demand: the
// player pulls 20 ms at a time, so the stream never needs to end.
const RATE = 48000;
function toneStream() {
  let n = 0;
  return new Readable({
    read() {
      const frames = 960;
      const buf = Buffer.alloc(frames * 4);
      for (let i = 0; i < frames; i += 1, n += 1) {
        const v = Math.round(0.316 * 32767 * Math.sin((2 * Math.PI * 330 * n) / RATE));
        buf.writeInt16LE(v, i * 4);
        buf.writeInt16LE(v, i * 4 + 2);
      }
      this.push(buf);
    },
  });
}

const player = voice.createAudioPlayer({
  behaviors: { noSubscriber: voice.NoSubscriberBehavior.Play },
});
player.on('error', (e) => emit('error', { message: `player: ${e?.message ?? e}` }));
connection.subscribe(player);

// Receiving: decode listen_to's Opus with a separate opusscript decoder.
const decoder = new OpusScript(RATE, 2, OpusScript.Application.AUDIO);
let decodedFrames = 0;
let encryptedBeforeReady = 0;
let encryptedAfterReady = 0;
let receiveErrors = 0;
let window = { frames: 0, sumSq: 0, samples: 0 };
function subscribe() {
  if (!cfg.listen_to) return;
  const stream = connection.receiver.subscribe(String(cfg.listen_to), {
    end: { behavior: voice.EndBehaviorType.Manual },
  });
  stream.on('data', (opus) => {
    // A frame still ending in DAVE's magic marker 0xFAFA was not
    // decrypted: before our DAVE session is ready @discordjs/voice passes
    // frames through as they came. Counted, never decoded as Opus.
    if (opus.length >= 2 && opus[opus.length - 1] === 0xfa && opus[opus.length - 2] === 0xfa) {
      if (daveReady()) encryptedAfterReady += 1;
      else encryptedBeforeReady += 1;
      return;
    }
    let pcm;
    try {
      pcm = decoder.decode(opus);
    } catch (e) {
      receiveErrors += 1;
      emit('error', { message: `opus decode: ${e?.message ?? e}` });
      return;
    }
    decodedFrames += 1;
    for (let i = 0; i + 1 < pcm.length; i += 2) {
      const s = pcm.readInt16LE(i) / 32768;
      window.sumSq += s * s;
      window.samples += 1;
    }
    window.frames += 1;
    if (window.frames === 25) {
      const rms = window.samples ? Math.sqrt(window.sumSq / window.samples) : 0;
      emit('decoded', {
        user: String(cfg.listen_to),
        frames: decodedFrames,
        rms,
        daveReady: daveReady(),
        encryptedBeforeReady,
        encryptedAfterReady,
      });
      window = { frames: 0, sumSq: 0, samples: 0 };
    }
  });
  // A packet that fails transport or DAVE decryption destroys the stream.
  stream.on('error', (e) => {
    receiveErrors += 1;
    emit('error', { message: `receive: ${e?.message ?? e}` });
  });
  stream.on('close', () => {
    if (connection.state.status !== voice.VoiceConnectionStatus.Destroyed) setTimeout(subscribe, 100);
  });
}
connection.receiver.speaking.on('start', (user) => emit('speaking', { user: String(user) }));

function daveReady() {
  return Boolean(networkingState()?.dave?.session?.ready);
}

let readyOnce = false;
connection.on(voice.VoiceConnectionStatus.Ready, () => {
  const ns = networkingState();
  emit('ready');
  emit('mode', { mode: ns?.connectionData?.encryptionMode ?? null });
  if (!readyOnce) {
    readyOnce = true;
    subscribe();
    if (cfg.play_raw) {
      setTimeout(() => {
        emit('playing', { file: cfg.play_raw });
        player.once(voice.AudioPlayerStatus.Idle, () => emit('played'));
        player.play(voice.createAudioResource(require('node:fs').createReadStream(cfg.play_raw), {
          inputType: voice.StreamType.Raw,
        }));
      }, Number(cfg.play_delay_ms ?? 0));
    } else {
      player.play(voice.createAudioResource(toneStream(), { inputType: voice.StreamType.Raw }));
    }
  }
});

// DAVE state: @discordjs/voice keeps its DAVESession wrapper in the
// networking state (`dave`), around davey's session (`session`).
let lastDave = '';
let daveNow = null;
const poll = setInterval(() => {
  const ns = networkingState();
  const dave = ns?.dave;
  const session = dave?.session;
  const now = {
    epoch: session?.epoch == null ? null : Number(session.epoch),
    protocolVersion: dave?.protocolVersion ?? null,
    ready: Boolean(session?.ready),
    status: session?.status ?? null,
  };
  const key = JSON.stringify(now);
  if (dave && key !== lastDave) {
    lastDave = key;
    daveNow = now;
    emit('dave', now);
  }
}, 50);

let lastSent = -1;
const sentTimer = setInterval(() => {
  const played = networkingState()?.connectionData?.packetsPlayed ?? 0;
  if (played !== lastSent) {
    lastSent = played;
    emit('sent', { packets: played });
  }
}, 1000);

let finished = false;
function finish(code) {
  if (finished) return;
  finished = true;
  clearInterval(poll);
  clearInterval(sentTimer);
  emit('done', {
    status: connection.state.status,
    joins,
    decodedFrames,
    receiveErrors,
    encryptedBeforeReady,
    encryptedAfterReady,
    sentPackets: Math.max(lastSent, 0),
    dave: daveNow,
    closeCode: lastCloseCode,
  });
  player.stop(true);
  connection.destroy();
  setTimeout(() => process.exit(code), 100);
}
setTimeout(() => finish(0), durationMs);
// The test closes stdin to stop the peer early (and a dead test leaves
// no orphan).
process.stdin.on('end', () => finish(0));
process.stdin.resume();
