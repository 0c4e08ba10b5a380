//! control, the control daemon.
//!
//! It owns the Discord side of the product (gateway session, Go Live
//! discovery, target choice, share links, the note and commentary loops,
//! the dashboard) and drives `mediad` over IPC for everything media.
//!
//! # Shape
//! - [`media`]: the connection to mediad, with the desired media state that is
//!   replayed after every reconnect.
//! - [`http`]: the HTTP server (`/healthz`, admin API).

pub mod brain;
pub mod conversation;
pub mod discord;
pub mod http;
pub mod media;
pub mod ops;
pub mod settings;
pub mod store;
pub mod tasks;
pub mod voice;
pub mod watch;

use clap::Parser;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Command line of `control`.
#[derive(Debug, Parser)]
#[command(
    name = "control",
    version,
    about = "Control daemon: Discord gateway, screen-watch logic, share links and dashboard; drives mediad over IPC.",
    long_about = "Control daemon. Connects to mediad at --mediad-socket (retrying with capped backoff while \
                  mediad is absent), keeps the desired media state and replays it after every reconnect, \
                  and serves HTTP on --http-addr (GET /healthz shows the mediad connection). Admin routes need the \
                  x-dashboard-token header when DASHBOARD_TOKEN is set; without it, control only binds to \
                  loopback addresses."
)]
pub struct Cli {
    /// Path of mediad's IPC socket.
    #[arg(long, env = "MEDIAD_SOCKET", default_value_os_t = default_mediad_socket())]
    pub mediad_socket: PathBuf,
    /// Address of the HTTP server (health, admin API, dashboard, share pages).
    #[arg(long, env = "CONTROL_HTTP_ADDR", default_value = "127.0.0.1:8787")]
    pub http_addr: SocketAddr,
    /// Admin token for the dashboard and admin API (header x-dashboard-token).
    #[arg(long, env = "DASHBOARD_TOKEN", hide_env_values = true)]
    pub dashboard_token: Option<String>,
    /// Extra host names (comma-separated, ports ignored) under which the
    /// admin routes and the dashboard may be reached, e.g. a LAN name
    /// behind DASHBOARD_TOKEN. Always accepted besides these: `localhost`,
    /// `*.localhost` and the bound address (its IP, or any loopback IP
    /// when bound to loopback; ports are not compared, so port forwards
    /// work); any other Host is refused with 403 (DNS rebinding).
    #[arg(long, env = "CONTROL_ADMIN_HOSTS", value_delimiter = ',')]
    pub admin_hosts: Vec<String>,
    /// Token for the direct frame ingest route
    /// (`POST /api/voice/stream-ingest/frame`, header x-public-api-token).
    #[arg(long, env = "PUBLIC_API_TOKEN", hide_env_values = true)]
    pub public_api_token: Option<String>,
    /// Log format on stderr (filter with RUST_LOG).
    #[arg(long, value_enum, default_value_t)]
    pub log_format: daemon_support::LogFormat,
    /// Testing aid: announce this IPC protocol version (MAJOR.MINOR) instead
    /// of the built-in one.
    #[arg(long, hide = true)]
    pub ipc_protocol_override: Option<ipc_schema::ProtocolVersion>,
    /// Testing aid: the long-lived task of this name (`media client`,
    /// `gateway`, `watch manager`, `brain`, `conversation`, `voice`, `http`)
    /// panics as it starts, to show that a panicking task stops the daemon.
    #[arg(long, hide = true)]
    pub test_panic_task: Option<String>,
    /// Discord token. Without one, control runs without a gateway session
    /// (media admin API only).
    #[arg(long, env = "DISCORD_TOKEN", hide_env_values = true)]
    pub discord_token: Option<String>,
    /// Which kind of account the token belongs to: `user` can watch Go
    /// Live; `bot` cannot (screen watching falls back to webcam or a link).
    #[arg(long, env = "DISCORD_ACCOUNT", value_enum, default_value_t = AccountKind::User)]
    pub discord_account: AccountKind,
    /// Main gateway URL (discord-sim prints its own).
    #[arg(
        long,
        env = "DISCORD_GATEWAY_URL",
        default_value = "wss://gateway.discord.gg"
    )]
    pub gateway_url: String,
    /// User accounts: `client_build_number` sent in the gateway Identify
    /// (set it to the current web client's; default: a witnessed build).
    #[arg(long, env = "DISCORD_CLIENT_BUILD_NUMBER")]
    pub client_build_number: Option<u64>,
    /// REST base URL (discord-sim prints its own).
    #[arg(
        long,
        env = "DISCORD_REST_BASE",
        default_value = "https://discord.com/api/v10"
    )]
    pub rest_base: String,
    /// Base URL share links are built on (what users' browsers reach);
    /// defaults to `https://<--public-host>`, else `http://<--http-addr>`.
    #[arg(long, env = "PUBLIC_BASE_URL")]
    pub public_url: Option<String>,
    /// Host name under which the share page is public (e.g. a tunnel's);
    /// requests for it reach only the share routes.
    #[arg(long, env = "PUBLIC_HOST")]
    pub public_host: Option<String>,
    /// Share-link lifetime in minutes (2-30).
    #[arg(long, env = "PUBLIC_SHARE_SESSION_TTL_MINUTES")]
    pub share_ttl_minutes: Option<String>,
    /// Whether the share-link fallback may be used (`false` disables it everywhere).
    #[arg(long, env = "STREAM_LINK_FALLBACK", default_value_t = true, action = clap::ArgAction::Set)]
    pub stream_link_fallback: bool,
    /// A PEM bundle of extra certificate authorities to trust for the
    /// gateway's `wss://`, REST and the LLM providers' `https://` (a test
    /// simulator's CA, a corporate proxy's root). It adds to the built-in
    /// webpki roots; TLS verification (chain and host name) cannot be
    /// turned off.
    #[arg(long, env = "EXTRA_CA_FILE")]
    pub extra_ca_file: Option<PathBuf>,
    /// Directory of control's SQLite store (live share links, settings,
    /// watch recaps); defaults to `$XDG_STATE_HOME/screenwatch`, else
    /// `~/.local/state/screenwatch`.
    #[arg(long, env = "CONTROL_DATA_DIR", default_value_os_t = default_data_dir())]
    pub data_dir: PathBuf,
    /// On a graceful stop (SIGTERM, Ctrl-C), log the Discord session out so
    /// the agent leaves voice. Without it the agent stays in voice and a
    /// restarted control takes its watches up again.
    #[arg(long, env = "LEAVE_VOICE_ON_STOP", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub leave_voice_on_stop: bool,
    /// A voice channel the agent joins at start and stays in, as
    /// `GUILD_ID/CHANNEL_ID`, so users can speak to it ("agent, look at my
    /// screen") before any watch; `GUILD_ID/CHANNEL_ID/TEXT_CHANNEL_ID` also
    /// names the text channel where spoken requests' watches post. Without
    /// it the agent joins voice when it starts watching.
    #[arg(long, env = "VOICE_CHANNEL")]
    pub voice_channel: Option<watch::HomeVoice>,
    /// Speech to text and text to speech.
    #[command(flatten)]
    pub speech: voice::SpeechArgs,
    /// An operator command for a running control instead of the daemon.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Operator commands (they talk to a running control over HTTP).
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Screen watching: start, stop, status.
    Watch {
        /// What to do.
        #[command(subcommand)]
        cmd: ops::WatchCommand,
        /// Where control runs.
        #[command(flatten)]
        server: ops::ServerArgs,
    },
    /// Share links: create, list, stop.
    Share {
        /// What to do.
        #[command(subcommand)]
        cmd: ops::ShareCommand,
        /// Where control runs.
        #[command(flatten)]
        server: ops::ServerArgs,
    },
}

/// The kind of Discord account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AccountKind {
    /// A user account (can watch Go Live).
    User,
    /// A bot account.
    Bot,
}

/// control's default data directory.
pub fn default_data_dir() -> PathBuf {
    match (std::env::var_os("XDG_STATE_HOME"), std::env::var_os("HOME")) {
        (Some(dir), _) if !dir.is_empty() => PathBuf::from(dir).join("screenwatch"),
        (_, Some(home)) if !home.is_empty() => PathBuf::from(home).join(".local/state/screenwatch"),
        _ => std::env::temp_dir().join("screenwatch-state"),
    }
}

/// mediad's default socket path (the same rule mediad uses).
pub fn default_mediad_socket() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(dir) => PathBuf::from(dir).join("screenwatch").join("mediad.sock"),
        None => {
            use std::os::unix::fs::MetadataExt;
            let uid = std::fs::metadata("/proc/self")
                .map(|m| m.uid())
                .unwrap_or(0);
            std::env::temp_dir()
                .join(format!("screenwatch-{uid}"))
                .join("mediad.sock")
        }
    }
}

/// Runs the daemon from its command line until `shutdown` resolves.
pub async fn main_with(
    cli: Cli,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let token = cli.dashboard_token.clone().filter(|t| !t.trim().is_empty());
    if token.is_none() && !cli.http_addr.ip().is_loopback() {
        anyhow::bail!(
            "refusing to serve the admin API on {} without DASHBOARD_TOKEN; set DASHBOARD_TOKEN or bind to a loopback address",
            cli.http_addr
        );
    }
    // One TLS client configuration for the gateway, REST and the LLM
    // providers.
    let tls = tls_client::TlsClient::new(cli.extra_ca_file.as_deref())
        .map_err(|e| anyhow::anyhow!("{e} (--extra-ca-file / EXTRA_CA_FILE)"))?;
    if let Some(ca) = tls.extra_ca() {
        tracing::info!(extra_ca = %ca.display(), "trusting an extra CA besides the webpki roots");
    }
    tls.install_global();
    let store = store::Store::open_dir(&cli.data_dir)
        .map_err(|e| anyhow::anyhow!("{e} (set --data-dir or CONTROL_DATA_DIR)"))?;
    tracing::info!(path = ?store.path(), "store opened");
    let settings = settings::SettingsHub::load(
        store.clone(),
        settings::EnvOverrides {
            link_fallback_enabled: cli.stream_link_fallback,
            share_ttl_minutes: cli.share_ttl_minutes.clone(),
        },
    );
    let protocol = cli
        .ipc_protocol_override
        .unwrap_or(ipc_schema::PROTOCOL_VERSION);
    let instance_id = daemon_support::instance_id();
    let media_config =
        media::client::MediaClientConfig::new(cli.mediad_socket.clone(), protocol, instance_id);
    let (client, handle) = media::MediaClient::new(media_config);

    // The long-lived tasks in one set with one stop signal, awaited at
    // shutdown (`tasks.rs`).
    let mut tasks = tasks::Tasks::new(cli.test_panic_task.clone());
    tasks.spawn("media client", client.run(tasks.stopped()));
    let listener = tokio::net::TcpListener::bind(cli.http_addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot bind HTTP on {}: {e}", cli.http_addr))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, mediad_socket = %cli.mediad_socket.display(), protocol = %protocol, "control started");
    let gateway = cli.discord_token.clone().filter(|t| !t.trim().is_empty()).map(|t| {
        let token = ipc_schema::Secret::new(t.trim().trim_start_matches("Bot "));
        let account = match cli.discord_account {
            AccountKind::User => discord::Account::User { token },
            AccountKind::Bot => discord::Account::Bot {
                token,
                // Messages (and their content, a privileged intent) for
                // conversation turns addressed to the agent.
                intents: gateway_proto::Intents(
                    gateway_proto::Intents::GUILDS.0
                        | gateway_proto::Intents::GUILD_VOICE_STATES.0
                        | gateway_proto::Intents::GUILD_MESSAGES.0
                        | gateway_proto::Intents::MESSAGE_CONTENT.0,
                ),
            },
        };
        tracing::info!(url = %cli.gateway_url, account = ?cli.discord_account, "starting the gateway session");
        discord::spawn_gateway(discord::GatewayConfig {
            url: cli.gateway_url.clone(),
            account,
            client_build_number: cli.client_build_number,
            tls: tls.clone(),
            logout_on_stop: cli.leave_voice_on_stop,
        })
    });
    if gateway.is_none() {
        tracing::warn!("no DISCORD_TOKEN: running without a Discord gateway session");
    }
    let public_url = cli
        .public_url
        .clone()
        .unwrap_or_else(|| match &cli.public_host {
            Some(host) => format!("https://{}", host.trim_end_matches('/')),
            None => format!("http://{addr}"),
        });
    let share_settings = settings.share();
    let rest = gateway.as_ref().and_then(|_| {
        let token = cli.discord_token.clone().unwrap_or_default();
        let token = token.trim().trim_start_matches("Bot ");
        discord::rest::RestClient::new(
            &cli.rest_base,
            token,
            cli.discord_account == AccountKind::Bot,
            &tls,
        )
        .map_err(|e| tracing::warn!(error = %e, "no REST client; nothing is posted"))
        .ok()
    });
    let provider: std::sync::Arc<dyn llm::Provider> = llm::default_provider_from_env()
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "LLM provider not usable; using the offline provider");
            std::sync::Arc::new(llm::OfflineProvider::new(llm::OfflineConfig::default()))
        });
    // Spoken turns and replies (only with a Discord session: there is no
    // voice channel without one).
    let voice = match gateway
        .as_ref()
        .map(|_| cli.speech.providers(|k| std::env::var(k).ok()))
    {
        Some(Ok(p)) => {
            tracing::info!(
                stt = p.stt.as_ref().map(|s| s.describe()),
                tts = p.tts.as_ref().map(|t| t.describe()),
                agent_name = %p.agent_name,
                "speech providers"
            );
            Some(voice::spawn_voice(
                p,
                &handle,
                settings.subscribe(),
                &mut tasks,
            ))
        }
        Some(Err(e)) => anyhow::bail!("speech settings: {e}"),
        None => None,
    };
    let brain = gateway.as_ref().map(|_| {
        tracing::info!(
            provider = provider.name(),
            "screen notes, commentary and conversation provider"
        );
        let provider = provider.clone();
        brain::spawn_brain(
            settings.subscribe(),
            Some(store.clone()),
            provider,
            rest.clone(),
            &handle,
            voice.clone(),
            &mut tasks,
        )
    });
    let watch = gateway.as_ref().map(|(g, _)| {
        watch::spawn_watch_manager(
            watch::WatchConfig {
                bot_account: cli.discord_account == AccountKind::Bot,
                link_fallback_enabled: cli.stream_link_fallback,
                home_voice: cli.voice_channel,
            },
            g.clone(),
            handle.clone(),
            brain.clone(),
            watch::LinkConfig {
                public_url: public_url.clone(),
                share: share_settings.clone(),
                store: Some(store.clone()),
                settings: Some(settings.subscribe_share()),
                stream_watch_settings: Some(settings.subscribe()),
            },
            rest.clone(),
            &mut tasks,
        )
    });
    if let (Some((g, _)), Some(w), Some(b)) = (&gateway, &watch, &brain) {
        conversation::spawn_conversation(
            conversation::ConversationDeps {
                gateway: g.clone(),
                watch: w.clone(),
                brain: b.clone(),
                rest: rest.clone(),
                provider: provider.clone(),
                voice: voice.clone(),
                home_text_channel: cli.voice_channel.and_then(|h| h.text).map(|c| c.0),
            },
            &mut tasks,
        );
    }
    // Everyone that listens to gateway events has subscribed: connect.
    let gateway = gateway.map(|(h, starter)| {
        starter.start(&mut tasks);
        h
    });
    let app = http::router(http::AppState::new(http::AppParts {
        media: handle,
        dashboard_token: token,
        public_api_token: cli.public_api_token.clone(),
        gateway: gateway.clone(),
        watch,
        brain,
        speech: voice,
        share: share_settings.clone(),
        public_host: cli.public_host.clone(),
        settings: settings.clone(),
        store: store.clone(),
        admin_hosts: cli.admin_hosts.clone(),
        bound_addr: addr,
    }));
    let http_stopped = tasks.stopped();
    tasks.spawn("http", async move {
        let served = axum::serve(
            http::serve::JsonRefusalListener::new(listener),
            app.into_make_service_with_connect_info::<http::serve::Peer>(),
        )
        .with_graceful_shutdown(http_stopped)
        .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "http server failed");
        }
    });
    // Run until the shutdown signal, or until a task panics.
    let mut panicked: Option<(&'static str, String)> = None;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(ended) = tasks.next() => {
                if let Some((name, message)) = tasks::log_end(&ended, false) {
                    panicked = Some((name, message.to_owned()));
                    break;
                }
            }
        }
    }
    tasks.stop();
    while let Some(ended) = tasks.next().await {
        if let Some((name, message)) = tasks::log_end(&ended, true)
            && panicked.is_none()
        {
            panicked = Some((name, message.to_owned()));
        }
    }
    tracing::info!("control stopped");
    match panicked {
        Some((name, message)) => anyhow::bail!("the {name} task panicked: {message}"),
        None => Ok(()),
    }
}
