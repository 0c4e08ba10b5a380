//! The Discord side of control: the main-gateway connection ([`gateway`])
//! and the REST subset ([`rest`]).

pub mod gateway;
pub mod rest;

pub use gateway::{
    Account, GatewayConfig, GatewayEvent, GatewayHandle, GatewayStarter, GatewayStatus,
    spawn_gateway,
};
