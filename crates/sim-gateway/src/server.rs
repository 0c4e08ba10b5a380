//! Start-up and the HTTP routers. As Discord's, the gateway WebSocket
//! (`wss://…/gateway`) and REST (`https://…/api/v10`) are served over TLS
//! only, with the certificate of the simulator's own CA (which the voice
//! and Go Live servers share). The admin API (`/admin`), which Discord has
//! no counterpart of, is plain HTTP on its own listener, loopback-only
//! unless told otherwise ([`SimNetwork`]).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::routing::{get, post};
use tokio::task::JoinHandle;

use crate::error::SimError;
use crate::hub::Hub;
use crate::scenario::Scenario;
use crate::voice_servers::{MediaConfig, MediaServers};
use crate::world::WorldSettings;
use crate::{admin, admin_speech, gateway, rest, timeline};

/// How to start a sim.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Listen address for gateway, REST and admin (port 0 = any free port).
    pub listen: SocketAddr,
    /// The world and its timeline.
    pub scenario: Scenario,
    /// Seed for tokens, session ids and netem.
    pub seed: u64,
}

/// Axum state.
#[derive(Clone)]
pub(crate) struct AppState {
    pub hub: Arc<Hub>,
    pub scenario_name: String,
}

/// A running sim. Dropping it leaves the tasks running until the runtime
/// ends; call [`SimHandle::shutdown`] to stop cleanly.
pub struct SimHandle {
    hub: Arc<Hub>,
    /// `host:port` of gateway and REST, as clients are told.
    host: String,
    /// `host:port` of the admin API.
    admin_host: String,
    tls: sim_tls::SimTls,
    server: JoinHandle<()>,
    timeline: JoinHandle<()>,
}

/// Milliseconds since the Unix epoch (wall clock; message timestamps).
pub(crate) fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `YYYY-MM-DDTHH:MM:SS.mmm+00:00` for a Unix time in ms.
pub(crate) fn iso8601(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil-from-days (proleptic Gregorian), days since 1970-01-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}+00:00",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        unix_ms % 1000
    )
}

fn discord_router(app: AppState) -> Router {
    let api = Router::new()
        .route("/users/@me", get(rest::me))
        .route("/channels/{id}/messages", post(rest::create_message))
        .route("/gateway", get(rest::gateway_info))
        .route("/gateway/bot", get(rest::gateway_info));
    Router::new()
        .route("/gateway", get(gateway::upgrade))
        .nest("/api/v10", api)
        .with_state(app)
}

/// `open`: answer every peer (asked for with a non-loopback
/// `--admin-listen`); else loopback peers only.
fn admin_router(app: AppState, open: bool) -> Router {
    let admin = Router::new()
        .route("/", get(admin::index))
        .route("/state", get(admin::state))
        .route("/sessions", get(admin::sessions_route))
        .route("/voice_states", get(admin::voice_states))
        .route("/streams", get(admin::streams))
        .route("/messages", get(admin::messages))
        .route("/actions", post(admin::actions))
        .route("/actions/{name}", post(admin::named_action))
        .route("/media/{server}/report", get(admin::media_report))
        .route("/media/{server}/log", get(admin::media_log))
        .route("/media/{server}/frames/{room}/{user}", get(admin::frames))
        .route(
            "/media/{server}/frames/{room}/{user}/latest.jpg",
            get(admin::latest_frame),
        )
        .route("/say", post(admin_speech::say_route))
        .route(
            "/recordings",
            get(admin_speech::recordings).delete(admin_speech::clear_recordings),
        )
        .route("/recordings/{file}", get(admin_speech::recording_wav));
    let admin = if open {
        admin
    } else {
        admin.route_layer(axum::middleware::from_fn(admin::loopback_only))
    };
    Router::new().nest("/admin", admin).with_state(app)
}

/// How the sim is reached from elsewhere; the default (no advertised name,
/// admin API on loopback) is what tests on one machine want.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimNetwork {
    /// The host name (or IP) clients are given instead of the listen
    /// address (`--advertise-host`): it is added to the leaf certificate,
    /// and the gateway and REST URLs and the voice / Go Live endpoints of
    /// VOICE_SERVER_UPDATE / STREAM_SERVER_UPDATE name it, with the real
    /// ports. The sim keeps listening on [`SimConfig::listen`]; with an
    /// unspecified listen address (`0.0.0.0`) the media servers listen
    /// everywhere too and announce the IP the name resolves to for UDP.
    pub advertise_host: Option<String>,
    /// Where the admin API listens (`--admin-listen`). `None`: loopback
    /// (the listen address when it is loopback, else 127.0.0.1 / ::1) on a
    /// free port. The admin API has no authentication and can drive the
    /// whole world (make users speak, crash servers, read messages and
    /// recordings), so it answers loopback peers only unless it is told to
    /// listen beyond loopback.
    pub admin_listen: Option<SocketAddr>,
}

/// Makes the CA, starts media servers, applies the scenario's time-zero
/// actions, then serves gateway and REST over TLS on `config.listen` and
/// the admin API on another port of the same address (loopback).
pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
    start_with(config, SimNetwork::default()).await
}

/// [`start`], reached through `network` (an advertised host name, the
/// admin API's address).
pub async fn start_with(config: SimConfig, network: SimNetwork) -> Result<SimHandle, SimError> {
    let advertise = network
        .advertise_host
        .as_deref()
        .map(sim_tls::SubjectName::parse)
        .transpose()
        .map_err(|e| SimError::Io(format!("--advertise-host: {e}")))?;
    let resolved: Vec<IpAddr> = match &advertise {
        Some(sim_tls::SubjectName::Dns(name)) if config.listen.ip().is_unspecified() => {
            match tokio::net::lookup_host((name.as_str(), 0)).await {
                Ok(addrs) => addrs.map(|a| a.ip()).collect(),
                Err(e) => {
                    tracing::warn!(host = %name, error = %e, "--advertise-host does not resolve");
                    Vec::new()
                }
            }
        }
        _ => Vec::new(),
    };
    let plan = crate::advertise::plan(
        config.listen.ip(),
        advertise.as_ref(),
        &resolved,
        network.admin_listen,
    )?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| SimError::Io(format!("bind {}: {e}", config.listen)))?;
    let port = listener
        .local_addr()
        .map_err(|e| SimError::Io(e.to_string()))?
        .port();
    let admin_listener = tokio::net::TcpListener::bind(plan.admin_bind)
        .await
        .map_err(|e| SimError::Io(format!("bind the admin API on {}: {e}", plan.admin_bind)))?;
    let admin_bound = admin_listener
        .local_addr()
        .map_err(|e| SimError::Io(e.to_string()))?;
    let admin_host = plan.admin_host(admin_bound);
    let tls = sim_tls::SimTls::generate_for(&plan.cert_names, None)
        .map_err(|e| SimError::Io(format!("TLS: {e}")))?;
    let scenario = config.scenario;
    let media = MediaServers::start(&MediaConfig {
        dave: scenario.settings.dave,
        heartbeat_interval_ms: scenario.settings.media_heartbeat_interval_ms,
        bind_ip: plan.media_bind,
        advertise_ip: plan.media_ip,
        tls: tls.clone(),
    })
    .await?;
    let settings = WorldSettings {
        voice_endpoint: plan.media_endpoint(&media.voice.endpoint()),
        stream_endpoint: plan.media_endpoint(&media.stream.endpoint()),
        stream_server_update_delay: scenario.stream_server_update_delay(),
        dave: scenario.settings.dave,
        max_viewers: 50,
    };
    let world = scenario.build_world(config.seed, settings)?;
    let host = format!("{}:{port}", plan.url_host);
    let gateway_url = format!("wss://{host}/gateway");
    let hub = Arc::new(Hub::new(
        world,
        scenario.settings.clone(),
        media,
        gateway_url,
        config.seed,
    ));
    let later = timeline::apply_initial(&hub, &scenario.timeline)?;
    let timeline = tokio::spawn(timeline::run_timeline(Arc::clone(&hub), later));
    let app = AppState {
        hub: Arc::clone(&hub),
        scenario_name: scenario.name.clone(),
    };
    let mut stop = hub.shutdown.subscribe();
    let mut admin_stop = hub.shutdown.subscribe();
    let tls_listener = crate::tls_listener::TlsListener::new(listener, tls.clone())
        .map_err(|e| SimError::Io(e.to_string()))?;
    let discord = discord_router(app.clone()).into_make_service();
    if plan.admin_open {
        tracing::warn!(admin = %admin_bound, "the admin API (no authentication) answers every peer that reaches {admin_bound}: anyone there can drive the simulated world");
    }
    let admin =
        admin_router(app, plan.admin_open).into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move {
        let serve = axum::serve(tls_listener, discord).with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        });
        let admin = axum::serve(admin_listener, admin).with_graceful_shutdown(async move {
            let _ = admin_stop.wait_for(|s| *s).await;
        });
        let (a, b) = tokio::join!(serve.into_future(), admin.into_future());
        if let Err(e) = a.and(b) {
            tracing::error!(error = %e, "discord-sim HTTP server failed");
        }
    });
    tracing::info!(listen = %config.listen, %host, admin = %admin_bound, media_ip = %plan.media_ip, ca_file = %tls.ca_file().display(), scenario = %scenario.name, "discord-sim listening");
    Ok(SimHandle {
        hub,
        host,
        admin_host,
        tls,
        server,
        timeline,
    })
}

impl SimHandle {
    /// `wss://127.0.0.1:PORT/gateway`, or `wss://NAME:PORT/gateway` with an
    /// advertised host (clients append `?v=10&encoding=json`).
    pub fn gateway_url(&self) -> String {
        format!("wss://{}/gateway", self.host)
    }

    /// `https://127.0.0.1:PORT/api/v10` (or the advertised host).
    pub fn rest_base(&self) -> String {
        format!("https://{}/api/v10", self.host)
    }

    /// `http://127.0.0.1:ADMIN_PORT/admin` (plain HTTP, loopback only
    /// unless [`SimNetwork::admin_listen`] says otherwise: the simulator's
    /// control panel, not a Discord surface).
    pub fn admin_base(&self) -> String {
        format!("http://{}/admin", self.admin_host)
    }

    /// The CA every TLS listener of this sim (gateway, REST, voice, Go
    /// Live) chains to; clients trust it through its file
    /// (`--extra-ca-file`, `NODE_EXTRA_CA_CERTS`).
    pub fn tls(&self) -> &sim_tls::SimTls {
        &self.tls
    }

    /// Where the CA's PEM is (a private temporary file that lives as long
    /// as the sim).
    pub fn ca_file(&self) -> &std::path::Path {
        self.tls.ca_file()
    }

    /// The CA's PEM.
    pub fn ca_pem(&self) -> &str {
        self.tls.ca_pem()
    }

    /// The guild voice media server (room = guild id).
    pub fn voice(&self) -> &sim_media_server::VoiceServerHandle {
        &self.hub.media.voice_handle
    }

    /// The Go Live stream media server (room = rtc_server_id).
    pub fn stream(&self) -> &sim_media_server::VoiceServerHandle {
        &self.hub.media.stream_handle
    }

    /// Every request the world made of a media server (grants, revokes,
    /// participants, faults), oldest first.
    pub fn media_log(&self, server: crate::ServerKind) -> Vec<crate::MediaLogEntry> {
        self.hub.media.get(server).log()
    }

    /// Stops serving, closes gateway connections (1001) and the media
    /// servers.
    pub async fn shutdown(self) {
        self.hub.shutdown.send_replace(true);
        self.timeline.abort();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.server).await;
        self.hub.media.voice.shutdown().await;
        self.hub.media.stream.shutdown().await;
    }
}
