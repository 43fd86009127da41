//! `tapline serve`: wires the sans-IO cores to sockets, threads and disks.
//!
//! Threads: the tokio runtime runs the SIP transports and the SIP core task; N media threads
//! receive the RTP (each recording on one of them); one writer thread owns the files; one
//! thread owns the SQLite catalogue.

mod control;
mod core;
mod final_rows;
mod finalize;
mod header_participants;
mod in_dialog;
mod invite;
mod manifest;
mod media_engine;
mod media_plan;
mod media_slot;
mod media_timeout;
mod metadata_update;
mod plan;
mod ports;
mod recovery;
mod reoffer;
mod responses;
mod session;
mod snapshot;
mod source_warnings;
mod stats;
mod store_thread;
mod stream_labels;
mod timers;
mod transport;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tapline_sip::{Endpoint, EndpointConfig};
use tapline_store::Catalogue;
use tokio::sync::mpsc;

use crate::cli::ServeArgs;
use crate::config::{Config, Overrides};

pub(crate) use media_engine::source::SourcePolicy;

pub(crate) fn main(args: ServeArgs) -> anyhow::Result<()> {
    let over = Overrides {
        sip_listen: args.sip_listen,
        rtp_ports: args.rtp_ports,
        data_dir: args.data_dir,
        media_address: args.media_address,
        reorder_ms: args.reorder_ms,
        log_format: args.log_format,
    };
    let config = Config::load(args.config.as_deref(), &over)?;
    crate::logging::init(&config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("tapline-sip")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(config))
}

async fn serve(config: Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let db_path = crate::recordings::catalogue_path(&config.data_dir);
    let catalogue = Catalogue::open(&db_path)
        .with_context(|| format!("opening catalogue {}", db_path.display()))?;
    // Recordings left active by a previous run that died: repair their files and close them
    // as interrupted.
    recovery::recover_interrupted(&catalogue).context("recovering interrupted recordings")?;

    let (store, store_join) = store_thread::spawn(catalogue)?;
    let (writer, writer_join) = writer::spawn()?;
    let (msg_tx, msg_rx) = mpsc::unbounded_channel();
    let threads = media_engine::thread_count(config.media_threads);
    let notify: media_engine::Notify = {
        let msg_tx = msg_tx.clone();
        Arc::new(move |e| {
            let _ = msg_tx.send(core::CoreMsg::Media(e));
        })
    };
    let (media, media_join) =
        media_engine::spawn(writer.clone(), threads, media_timeouts(&config), notify)?;
    let ports = ports::PortPool::new(config.rtp_ports);
    let _stats = stats::start(&config.data_dir, media.stats(), ports.clone());

    let (in_tx, in_rx) = mpsc::channel(4096);
    let tcp_limits = transport::TcpLimits::from_config(&config);
    let (transports, bound) = transport::start(config.sip_listen, tcp_limits, in_tx)
        .await
        .with_context(|| format!("binding SIP on {}", config.sip_listen))?;
    tracing::info!(
        sip = %bound,
        rtp_ports = %config.rtp_ports,
        data_dir = %config.data_dir.display(),
        "tapline listening (UDP and TCP)"
    );

    let endpoint = Endpoint::new(EndpointConfig {
        t1: Duration::from_millis(config.sip_t1_ms),
        ..EndpointConfig::default()
    });
    let config = Arc::new(config);
    let core = core::Core::new(
        endpoint,
        transports,
        config.clone(),
        ports,
        store.clone(),
        media.clone(),
        writer.clone(),
        msg_tx.clone(),
    );
    let _control = control::start(&config.data_dir, msg_tx.clone());
    let signals = tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("signal received: finalizing recordings in progress");
        let _ = msg_tx.send(core::CoreMsg::Shutdown);
    });
    core.run(in_rx, msg_rx).await;
    signals.abort();

    media.shutdown();
    let _ = media_join.join();
    writer.send(writer::WriterMsg::Shutdown);
    let _ = writer_join.join();
    drop(store);
    let _ = store_join.join();
    tracing::info!("tapline stopped");
    Ok(())
}

/// The media and hold timeouts (the hold one never shorter than the media one).
fn media_timeouts(config: &Config) -> media_engine::idle::Timeouts {
    let media = Duration::from_secs(config.media_timeout_secs.max(1));
    let hold = Duration::from_secs(config.hold_timeout_secs).max(media);
    media_engine::idle::Timeouts { media, hold }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
