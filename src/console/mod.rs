//! The console's core, with no terminal I/O: the [`state::State`] the
//! views draw, the [`action::Action`]s keys map to, the messages
//! background tasks post ([`msg::Msg`]), `update` that applies both and
//! asks for [`msg::Effect`]s, and `tasks` that run those effects against
//! the cloud. Testable alone: feed keys and messages, assert the state.

pub mod action;
pub mod edit;
pub mod history;
pub mod keys;
pub mod msg;
pub mod ring;
pub mod settings;
pub mod state;
pub mod summary;
pub mod tasks;
pub mod theme;
pub mod update;
