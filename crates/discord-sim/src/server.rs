//! Start-up and the HTTP router: one listener serves the gateway
//! WebSocket (`/gateway`), REST (`/api/v10`) and the admin API (`/admin`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
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
use crate::{admin, gateway, rest, timeline};

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
    addr: SocketAddr,
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

fn router(app: AppState) -> Router {
    let api = Router::new()
        .route("/users/@me", get(rest::me))
        .route("/channels/{id}/messages", post(rest::create_message))
        .route("/gateway", get(rest::gateway_info))
        .route("/gateway/bot", get(rest::gateway_info));
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
        .route_layer(axum::middleware::from_fn(admin::loopback_only));
    Router::new()
        .route("/gateway", get(gateway::upgrade))
        .nest("/api/v10", api)
        .nest("/admin", admin)
        .with_state(app)
}

/// Starts media servers, applies the scenario's time-zero actions, then
/// serves gateway, REST and admin on `config.listen`.
pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| SimError::Io(format!("bind {}: {e}", config.listen)))?;
    let mut addr = listener
        .local_addr()
        .map_err(|e| SimError::Io(e.to_string()))?;
    if addr.ip().is_unspecified() {
        // URLs must be connectable: advertise loopback for 0.0.0.0.
        addr.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    let scenario = config.scenario;
    let media = MediaServers::start(&MediaConfig {
        dave: scenario.settings.dave,
        heartbeat_interval_ms: scenario.settings.media_heartbeat_interval_ms,
        bind_ip: addr.ip(),
    })
    .await?;
    let settings = WorldSettings {
        voice_endpoint: media.voice.endpoint(),
        stream_endpoint: media.stream.endpoint(),
        stream_server_update_delay: scenario.stream_server_update_delay(),
        dave: scenario.settings.dave,
        max_viewers: 50,
    };
    let world = scenario.build_world(config.seed, settings)?;
    let gateway_url = format!("ws://{addr}/gateway");
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
    let service = router(app).into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move {
        let serve = axum::serve(listener, service).with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "discord-sim HTTP server failed");
        }
    });
    tracing::info!(%addr, scenario = %scenario.name, "discord-sim listening");
    Ok(SimHandle {
        hub,
        addr,
        server,
        timeline,
    })
}

impl SimHandle {
    /// `ws://127.0.0.1:PORT/gateway` (clients append `?v=10&encoding=json`).
    pub fn gateway_url(&self) -> String {
        format!("ws://{}/gateway", self.addr)
    }

    /// `http://127.0.0.1:PORT/api/v10`.
    pub fn rest_base(&self) -> String {
        format!("http://{}/api/v10", self.addr)
    }

    /// `http://127.0.0.1:PORT/admin`.
    pub fn admin_base(&self) -> String {
        format!("http://{}/admin", self.addr)
    }

    /// The guild voice media server (room = guild id).
    pub fn voice(&self) -> &sim_voice::VoiceServerHandle {
        &self.hub.media.voice_handle
    }

    /// The Go Live stream media server (room = rtc_server_id).
    pub fn stream(&self) -> &sim_voice::VoiceServerHandle {
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
