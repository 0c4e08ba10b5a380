//! `--advertise-host`: the sim is reached by a name (a compose service)
//! while it listens elsewhere. A client trusting only the sim's CA connects
//! to `wss://NAME:port`, and the voice and Go Live endpoints it is handed
//! carry NAME and accept TLS for it.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{ALICE, Client, GUILD, LOUNGE, USER_TOKEN, demo_with, within};
use gateway_proto::{
    ChannelId, ClientCommand, Dispatch, GuildId, StreamKey, UpdateVoiceState, UserId,
};
use sim_gateway::{SimConfig, SimHandle, SimNetwork};
use tokio::net::TcpStream;
use tokio_tungstenite::Connector;

async fn start(listen: &str, advertise: &str, admin_listen: Option<SocketAddr>) -> SimHandle {
    sim_gateway::start_with(
        SimConfig {
            listen: listen.parse().expect("addr"),
            scenario: demo_with(|_| {}),
            seed: 7,
        },
        SimNetwork {
            advertise_host: Some(advertise.to_owned()),
            admin_listen,
        },
    )
    .await
    .expect("sim starts")
}

/// A TLS client trusting this sim's CA and nothing else of it.
fn client_for(sim: &SimHandle) -> tls_client::TlsClient {
    tls_client::TlsClient::with_extra_pem(sim.ca_pem()).expect("CA loads")
}

/// Opens `url` (its host is what TLS verifies) over a TCP connection to
/// `connect_to`: a resolver override, so a name nobody resolves can be
/// checked against the certificate.
async fn ws_via(
    tls: &tls_client::TlsClient,
    url: &str,
    connect_to: SocketAddr,
) -> Result<Client, String> {
    let tcp = TcpStream::connect(connect_to)
        .await
        .map_err(|e| e.to_string())?;
    let (ws, _) = tokio_tungstenite::client_async_tls_with_config(
        url,
        tcp,
        None,
        Some(Connector::Rustls(tls.config())),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(Client { ws, seq: None })
}

fn port_of(host_port: &str) -> u16 {
    host_port
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .expect("host:port")
}

fn join_lounge() -> ClientCommand {
    ClientCommand::UpdateVoiceState(UpdateVoiceState::join(
        Some(GuildId(GUILD)),
        ChannelId(LOUNGE),
        false,
        true,
    ))
}

/// Identifies as the agent, joins the lounge and watches Alice: the
/// endpoints of VOICE_SERVER_UPDATE and STREAM_SERVER_UPDATE.
async fn endpoints(c: &mut Client) -> (String, String) {
    match c.next().await {
        common::Event::Msg(gateway_proto::ServerMessage::Hello(_)) => {}
        other => panic!("expected HELLO first, got {other:?}"),
    }
    c.identify_user(USER_TOKEN).await;
    c.dispatch("READY").await;
    c.send(&join_lounge()).await;
    let Dispatch::VoiceServerUpdate(vsu) = c.dispatch("VOICE_SERVER_UPDATE").await else {
        unreachable!()
    };
    c.send(&ClientCommand::WatchStream(StreamKey::Guild {
        guild_id: GuildId(GUILD),
        channel_id: ChannelId(LOUNGE),
        user_id: UserId(ALICE),
    }))
    .await;
    let Dispatch::StreamServerUpdate(ssu) = c.dispatch("STREAM_SERVER_UPDATE").await else {
        unreachable!()
    };
    (
        vsu.endpoint.expect("voice endpoint"),
        ssu.endpoint.expect("stream endpoint"),
    )
}

#[tokio::test]
async fn a_name_nobody_resolves_is_in_the_certificate_urls_and_media_endpoints() {
    within(async {
        let sim = start("127.0.0.1:0", "discord-sim.test", None).await;
        let port = port_of(
            sim.gateway_url()
                .trim_start_matches("wss://")
                .trim_end_matches("/gateway"),
        );
        assert_eq!(
            sim.gateway_url(),
            format!("wss://discord-sim.test:{port}/gateway")
        );
        assert_eq!(
            sim.rest_base(),
            format!("https://discord-sim.test:{port}/api/v10")
        );
        let tls = client_for(&sim);
        let local: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");

        let url = format!("{}?v=10&encoding=json", sim.gateway_url());
        let mut c = ws_via(&tls, &url, local)
            .await
            .expect("wss://discord-sim.test connects");
        let (voice, stream) = endpoints(&mut c).await;
        assert_eq!(voice, format!("discord-sim.test:{}", port_of(&voice)));
        assert_eq!(stream, format!("discord-sim.test:{}", port_of(&stream)));
        assert_ne!(voice, stream);
        // The media servers serve TLS for the name too, on those ports.
        for endpoint in [&voice, &stream] {
            let to: SocketAddr = format!("127.0.0.1:{}", port_of(endpoint))
                .parse()
                .expect("addr");
            ws_via(&tls, &format!("wss://{endpoint}/?v=8"), to)
                .await
                .unwrap_or_else(|e| panic!("wss://{endpoint} refused: {e}"));
        }

        // A name the certificate does not carry is refused, as it would be
        // against Discord.
        let wrong = format!("wss://other-host.test:{port}/gateway?v=10&encoding=json");
        let err = ws_via(&tls, &wrong, local).await.err().expect("refused");
        assert!(err.to_lowercase().contains("certificate"), "{err}");
        // The admin API stayed on loopback, plain HTTP.
        assert!(
            sim.admin_base().starts_with("http://127.0.0.1:"),
            "{}",
            sim.admin_base()
        );
        assert!(common::admin_get(&sim, "/state").await.is_object());
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn listening_on_0_0_0_0_as_localhost_clients_resolve_the_name_themselves() {
    within(async {
        let sim = start("0.0.0.0:0", "localhost", None).await;
        assert!(
            sim.gateway_url().starts_with("wss://localhost:"),
            "{}",
            sim.gateway_url()
        );
        let tls = client_for(&sim);
        let url = format!("{}?v=10&encoding=json", sim.gateway_url());
        let ws = tls
            .connect_ws(&url, Duration::from_secs(5))
            .await
            .expect("wss://localhost connects through the resolver");
        let mut c = Client { ws, seq: None };
        let (voice, stream) = endpoints(&mut c).await;
        for endpoint in [&voice, &stream] {
            assert!(endpoint.starts_with("localhost:"), "{endpoint}");
            tls.connect_ws(&format!("wss://{endpoint}/?v=8"), Duration::from_secs(5))
                .await
                .unwrap_or_else(|e| panic!("wss://{endpoint} refused: {e}"));
        }
        // The voice server announces the IP `localhost` resolved to for UDP
        // (not 0.0.0.0, which no client can send to).
        let report = common::admin_get(&sim, "/media/voice/report").await;
        let announced = report["endpoint"].as_str().expect("endpoint in the report");
        assert!(
            announced.starts_with("127.0.0.1:") || announced.starts_with("[::1]:"),
            "{announced}"
        );
        sim.shutdown().await;
    })
    .await;
}

/// A non-loopback address of this machine, if it has one.
fn non_loopback_ip() -> Option<std::net::IpAddr> {
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    // No packet is sent: connect only picks the route's source address.
    s.connect("10.255.255.254:9").ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[tokio::test]
async fn the_admin_api_answers_other_peers_only_when_asked_to_listen_beyond_loopback() {
    within(async {
        let Some(ip) = non_loopback_ip() else {
            eprintln!("skipped: this machine has no non-loopback address");
            return;
        };
        let sim = start(
            "0.0.0.0:0",
            "localhost",
            Some("0.0.0.0:0".parse().expect("addr")),
        )
        .await;
        let admin_port = port_of(
            sim.admin_base()
                .trim_start_matches("http://")
                .trim_end_matches("/admin"),
        );
        let (status, _, body) = common::http(
            "GET",
            &format!("http://{ip}:{admin_port}/admin/state"),
            &[],
            b"",
        )
        .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        sim.shutdown().await;

        // By default it listens on loopback only: the same address is not
        // even connectable.
        let sim = start("0.0.0.0:0", "localhost", None).await;
        let admin_port = port_of(
            sim.admin_base()
                .trim_start_matches("http://")
                .trim_end_matches("/admin"),
        );
        assert!(
            TcpStream::connect((ip, admin_port)).await.is_err(),
            "the default admin API is reachable on {ip}"
        );
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_bad_or_unresolvable_name_fails_the_start_clearly() {
    let config = || SimConfig {
        listen: "0.0.0.0:0".parse().expect("addr"),
        scenario: demo_with(|_| {}),
        seed: 1,
    };
    let bad = sim_gateway::start_with(
        config(),
        SimNetwork {
            advertise_host: Some("not a name".to_owned()),
            admin_listen: None,
        },
    )
    .await
    .err()
    .expect("refused");
    assert!(bad.to_string().contains("--advertise-host"), "{bad}");
    let unresolvable = sim_gateway::start_with(
        config(),
        SimNetwork {
            advertise_host: Some("no-such-host.invalid".to_owned()),
            admin_listen: None,
        },
    )
    .await
    .err()
    .expect("refused");
    assert!(
        unresolvable.to_string().contains("does not resolve"),
        "{unresolvable}"
    );
}
