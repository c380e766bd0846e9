//! Starting the set of peers one test needs, together.

use std::thread;

use crate::error::Result;
use crate::home::TestHome;
use crate::keyring::SecretService;
use crate::moto::MotoServer;

/// What a test asks for: always a [`TestHome`], and moto and/or a Secret Service.
#[derive(Debug, Default, Clone, Copy)]
#[must_use = "call .start()"]
pub struct PeersBuilder {
    moto: bool,
    secret_service: bool,
}

impl PeersBuilder {
    /// Also start moto's server.
    pub fn with_moto(mut self) -> Self {
        self.moto = true;
        self
    }

    /// Also start gnome-keyring on a private bus.
    pub fn with_secret_service(mut self) -> Self {
        self.secret_service = true;
        self
    }

    /// Starts what was asked for. The peers start in parallel: each spends most of
    /// its start-up waiting on its own process.
    pub fn start(self) -> Result<Peers> {
        let home = TestHome::new()?;
        let (moto, secret_service) = thread::scope(|scope| {
            let moto = self.moto.then(|| scope.spawn(MotoServer::start));
            let secret_service = self.secret_service.then(SecretService::start);
            let moto = moto.map(|handle| handle.join().expect("starting moto panicked"));
            (moto, secret_service)
        });
        Ok(Peers {
            moto: moto.transpose()?,
            secret_service: secret_service.transpose()?,
            home,
        })
    }
}

/// The peers of one test. Dropping it stops every daemon and removes every file.
#[derive(Debug)]
pub struct Peers {
    moto: Option<MotoServer>,
    secret_service: Option<SecretService>,
    home: TestHome,
}

impl Peers {
    /// Choose the peers: `Peers::builder().with_moto().with_secret_service().start()`.
    pub fn builder() -> PeersBuilder {
        PeersBuilder::default()
    }

    pub fn home(&self) -> &TestHome {
        &self.home
    }

    /// The moto server. Panics if the test did not ask for it.
    pub fn moto(&self) -> &MotoServer {
        self.moto
            .as_ref()
            .expect("this test's Peers were started without .with_moto()")
    }

    /// The Secret Service. Panics if the test did not ask for it.
    /// The keyring, to lock it or stop and restart its daemon mid-test.
    pub fn secret_service_mut(&mut self) -> &mut SecretService {
        self.secret_service
            .as_mut()
            .expect("this test's Peers were started without .with_secret_service()")
    }

    pub fn secret_service(&self) -> &SecretService {
        self.secret_service
            .as_ref()
            .expect("this test's Peers were started without .with_secret_service()")
    }

    /// Environment for a child process: the home's variables, `AWS_ENDPOINT_URL` when
    /// moto runs, `DBUS_SESSION_BUS_ADDRESS` when the Secret Service runs.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = self.home.env();
        if let Some(moto) = &self.moto {
            env.push(("AWS_ENDPOINT_URL".to_owned(), moto.endpoint()));
        }
        if let Some(secret_service) = &self.secret_service {
            env.extend(secret_service.env());
        }
        env
    }
}
