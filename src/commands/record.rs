//! `traces record [-- CMD ARGS...]`: receive what an app exports on a local port and
//! import it. With a command: run it with the SDKs pointed here, wait for its late
//! exports, import everything as one import, exit with its status. Without: serve until
//! SIGINT or SIGTERM, importing every `--commit-every`. Options: `--listen`, `--output`,
//! `--protocol`, `--grace`, `--commit-every`, `--token`, `--max-body`, `--env`.

use crate::cli::{ImportArgs, ReceiverArgs, RecordArgs, RecordProtocol};
use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use traces::receive::env::{Protocol, child_env};
use traces::receive::spool::Spool;
use traces::receive::{Limits, Receiver, dump, http};
use traces::render::group_digits;
use traces::store::Store;

/// After the command exits, exports are over once none has come for this long.
const QUIET: Duration = Duration::from_millis(150);

/// `pricing`: the `--pricing` files, with which the calls tables name each call's price
/// entry (as an import does).
pub fn run(store: &Store, pricing: &[PathBuf], args: &RecordArgs) -> Result<u8> {
    runtime()?.block_on(record(
        store,
        pricing,
        &args.receiver,
        args.output.as_deref(),
        args.commit_every,
        &args.command,
    ))
}

/// `check -- CMD`'s first half: runs `command` under the receiver, writing what it sent
/// to `dump` (then imported into the store by the caller). The command's exit status.
pub fn record_run(
    store: &Store,
    receiver: &ReceiverArgs,
    dump: &Path,
    command: &[std::ffi::OsString],
) -> Result<u8> {
    // Only a dump is written: the caller imports it, with its own --pricing files.
    runtime()?.block_on(record(
        store,
        &[],
        receiver,
        Some(dump),
        Duration::MAX,
        command,
    ))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the receiver's runtime")
}

async fn record(
    store: &Store,
    pricing: &[PathBuf],
    args: &ReceiverArgs,
    output: Option<&Path>,
    commit_every: Duration,
    command: &[std::ffi::OsString],
) -> Result<u8> {
    let with_command = !command.is_empty();
    let listen = args.listen.clone().unwrap_or_else(|| {
        if with_command {
            "127.0.0.1:0"
        } else {
            "127.0.0.1:4318"
        }
        .to_string()
    });
    let addr = resolve(&listen).await?;
    if !addr.ip().is_loopback() {
        super::say::warn(format_args!(
            "listening on {addr}, beyond this machine: anyone who reaches it can write to the store{}",
            if args.token.is_none() {
                " (--token T requires a bearer token)"
            } else {
                ""
            }
        ));
    }
    // A dump is spooled beside it, so that --output needs no store.
    let spool_dir = match output {
        Some(out) => Some(
            tempfile::Builder::new()
                .prefix(".traces-record-")
                .tempdir_in(parent_of(out))
                .with_context(|| format!("cannot make a spool beside {}", out.display()))?,
        ),
        None => None,
    };
    let spool_root = spool_dir.as_ref().map_or(store.root(), |d| d.path());
    let spool = Spool::open(spool_root)?;
    let app = Arc::new(Receiver::new(
        spool,
        Limits {
            max_body: args.max_body,
            token: args.token.clone(),
        },
    ));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    super::say::note(format_args!("receiving on http://{local}"));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(
        axum::serve(listener, http::router(app.clone()))
            .with_graceful_shutdown(async move {
                let mut s = stopped;
                let _ = s.wait_for(|v| *v).await;
            })
            .into_future(),
    );
    let mut out = Output::open(output)?;

    let code = if with_command {
        let code = run_command(args, command, local).await?;
        let deadline = Instant::now() + args.grace;
        while Instant::now() < deadline && !app.idle_for(QUIET) {
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Some(code)
    } else {
        serve(store, pricing, &app, commit_every, &mut out).await?;
        None
    };
    let _ = stop.send(true);
    // Exports still in flight finish; a connection left open does not hold the exit.
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    print_received(&app);
    let committed = commit(store, pricing, &app, &mut out).await;
    drop(spool_dir);
    match (code, committed) {
        (Some(c), _) if c != 0 => Ok(c),
        (_, Err(e)) => {
            super::say::error(format_args!("{e:#}"));
            Ok(1)
        }
        (Some(c), Ok(())) => Ok(c),
        (None, Ok(())) => Ok(0),
    }
}

async fn resolve(listen: &str) -> Result<SocketAddr> {
    tokio::net::lookup_host(listen)
        .await
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| {
            super::UsageError(format!(
                "--listen {listen:?}: expected HOST:PORT, such as 127.0.0.1:4318"
            ))
            .into()
        })
}

fn parent_of(p: &Path) -> &Path {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Runs the command with the SDKs pointed at `local`; its exit status as a shell gives it.
async fn run_command(
    args: &ReceiverArgs,
    command: &[std::ffi::OsString],
    local: SocketAddr,
) -> Result<u8> {
    let host = if local.ip().is_unspecified() {
        SocketAddr::new([127, 0, 0, 1].into(), local.port())
    } else {
        local
    };
    let protocol = match args.protocol {
        RecordProtocol::Http => Protocol::HttpProtobuf,
        RecordProtocol::Grpc => Protocol::Grpc,
    };
    let base = format!("http://{host}");
    let mut cmd = tokio::process::Command::new(&command[0]);
    cmd.args(&command[1..]);
    cmd.envs(child_env(&base, protocol, args.token.as_deref(), &|k| {
        std::env::var(k).ok()
    }));
    for kv in &args.env {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| super::UsageError(format!("--env {kv:?}: expected KEY=VALUE")))?;
        cmd.env(k, v);
    }
    let name = command[0].to_string_lossy().into_owned();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            super::say::error(format_args!("cannot run {name}: {e}"));
            // As a shell answers: 127 for a command not found, 126 for one not runnable.
            return Ok(if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            });
        }
    };
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let status = loop {
        tokio::select! {
            s = child.wait() => break s.with_context(|| format!("waiting for {name}"))?,
            // Ctrl-C reaches the command too: it decides when to stop, then what it
            // sent is imported.
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => { let _ = child.start_kill(); }
        }
    };
    Ok(exit_code(status))
}

fn exit_code(status: std::process::ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => u8::try_from(c & 0xff).unwrap_or(1),
        (None, Some(sig)) => u8::try_from(128 + sig).unwrap_or(1),
        (None, None) => 1,
    }
}

/// Serves until SIGINT or SIGTERM, committing every `--commit-every`.
async fn serve(
    store: &Store,
    pricing: &[PathBuf],
    app: &Arc<Receiver>,
    commit_every: Duration,
    out: &mut Output,
) -> Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut tick = tokio::time::interval(commit_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Err(e) = commit(store, pricing, app, out).await {
                    // What failed stays in the spool for the next commit.
                    super::say::error(format_args!("{e:#}"));
                }
            }
            _ = tokio::signal::ctrl_c() => return Ok(()),
            _ = term.recv() => return Ok(()),
        }
    }
}

/// Imports (or writes out) every generation received so far, then drops it from the
/// spool: a crash before that leaves it to the next `record`, and importing it twice
/// stores it once.
async fn commit(
    store: &Store,
    pricing: &[PathBuf],
    app: &Arc<Receiver>,
    out: &mut Output,
) -> Result<()> {
    let files = app.spool().rotate()?;
    if files.is_empty() {
        return Ok(());
    }
    let store = store.clone();
    let pricing = pricing.to_vec();
    let paths = files.clone();
    let target = out.take();
    let target = tokio::task::spawn_blocking(move || -> Result<Option<Dump>> {
        match target {
            None => {
                super::import::import(
                    &store,
                    &pricing,
                    &ImportArgs {
                        paths,
                        format: "proto-framed".into(),
                        skip_invalid: true,
                        max_inflation: traces::ingest::decompress::MAX_INFLATION,
                    },
                    super::import::Summary::Stderr,
                )?;
                Ok(None)
            }
            Some(mut d) => {
                d.append(&paths)?;
                Ok(Some(d))
            }
        }
    })
    .await??;
    out.put(target);
    app.spool().committed(&files)?;
    Ok(())
}

fn print_received(app: &Receiver) {
    let t = &app.tally;
    let n = |a: &std::sync::atomic::AtomicU64| group_digits(&a.load(Ordering::Relaxed).to_string());
    let mut line = format!(
        "received {} request(s): {} span(s), {} log record(s)",
        n(&t.requests),
        n(&t.spans),
        n(&t.logs)
    );
    if t.langfuse_events.load(Ordering::Relaxed) > 0 {
        line.push_str(&format!(", {} Langfuse event(s)", n(&t.langfuse_events)));
    }
    if t.refused.load(Ordering::Relaxed) > 0 {
        line.push_str(&format!("; {} refused", n(&t.refused)));
    }
    if t.metrics_skipped.load(Ordering::Relaxed) > 0 {
        line.push_str(&format!(
            "; {} metrics export(s) answered, not kept",
            n(&t.metrics_skipped)
        ));
    }
    super::say::note(format_args!("{line}"));
}

/// Where commits go: the store, or a dump.
struct Output(Option<Dump>);

struct Dump {
    path: PathBuf,
    file: std::fs::File,
    langfuse: Option<std::fs::File>,
}

impl Output {
    fn open(path: Option<&Path>) -> Result<Output> {
        let Some(path) = path else {
            return Ok(Output(None));
        };
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(Output(Some(Dump {
            path: path.to_path_buf(),
            file,
            langfuse: None,
        })))
    }

    fn take(&mut self) -> Option<Dump> {
        self.0.take()
    }

    fn put(&mut self, d: Option<Dump>) {
        if d.is_some() {
            self.0 = d;
        }
    }
}

impl Dump {
    fn append(&mut self, files: &[PathBuf]) -> Result<()> {
        use std::io::Write;
        let lf_path = dump::langfuse_path(&self.path);
        let mut w = std::io::BufWriter::new(&self.file);
        let langfuse = &mut self.langfuse;
        let (lines, batches) = dump::write_lines(files, &mut w, &mut |line| {
            if langfuse.is_none() {
                *langfuse = Some(std::fs::File::create(&lf_path)?);
            }
            let f = langfuse.as_mut().expect("created above");
            f.write_all(line)?;
            f.write_all(b"\n")
        })
        .with_context(|| format!("cannot write {}", self.path.display()))?;
        w.flush()?;
        drop(w);
        self.file.sync_data()?;
        if let Some(f) = &self.langfuse {
            f.sync_data()?;
        }
        super::say::note(format_args!(
            "{}: {} request(s) written as OTLP JSON lines",
            self.path.display(),
            group_digits(&lines.to_string())
        ));
        if batches > 0 {
            super::say::note(format_args!(
                "{}: {} Langfuse ingestion batch(es)",
                lf_path.display(),
                group_digits(&batches.to_string())
            ));
        }
        Ok(())
    }
}
