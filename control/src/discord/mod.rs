//! The Discord side of control: the main-gateway connection ([`gateway`]).

pub mod gateway;

pub use gateway::{
    Account, GatewayConfig, GatewayEvent, GatewayHandle, GatewayStatus, spawn_gateway,
};
