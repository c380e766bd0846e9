//! A loopback port that answers nothing and counts who connects: where a request must
//! never go (an endpoint from the user's AWS files that Rolehop's own clients ignore).

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{PeerError, Result};

/// The listener runs on a thread of its own until the test process ends.
#[derive(Debug, Clone)]
pub struct ConnectionTrap {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
}

impl ConnectionTrap {
    pub fn start() -> Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(PeerError::io("binding the connection trap"))?;
        let addr = listener
            .local_addr()
            .map_err(PeerError::io("binding the connection trap"))?;
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                counter.fetch_add(1, Ordering::SeqCst);
                // Closed at once: a client that came here fails fast.
                drop(stream);
            }
        });
        Ok(Self { addr, connections })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many connections were made to it so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}
