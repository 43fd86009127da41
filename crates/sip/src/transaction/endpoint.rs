//! The sans-IO endpoint: routes input to transactions, owns timers and the output queue.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use super::client_invite::ClientInvite;
use super::client_non_invite::ClientNonInvite;
use super::key::{AckKey, ClientKey, ServerKey};
use super::server_invite::ServerInvite;
use super::server_non_invite::ServerNonInvite;
use super::stateless;
use super::timers::{TimerQueue, TxRef};
use super::{ClientTxId, EndpointConfig, EndpointError, Event, Output, ServerTxId, transmit};
use crate::message::{Message, Request, Response};
use crate::method::Method;
use crate::parse;
use crate::peer::Peer;

enum ServerTx {
    Invite(ServerInvite),
    NonInvite(ServerNonInvite),
}

enum ClientTx {
    Invite(ClientInvite),
    NonInvite(ClientNonInvite),
}

impl ServerTx {
    fn deadline(&self) -> Option<Instant> {
        match self {
            ServerTx::Invite(t) => t.deadline(),
            ServerTx::NonInvite(t) => t.deadline(),
        }
    }
}

impl ClientTx {
    fn deadline(&self) -> Option<Instant> {
        match self {
            ClientTx::Invite(t) => t.deadline(),
            ClientTx::NonInvite(t) => t.deadline(),
        }
    }
}

/// SIP endpoint: transaction layer for a UAS and a UAC (RFC 3261 section 17).
pub struct Endpoint {
    config: EndpointConfig,
    next_id: u64,
    out: VecDeque<Output>,
    servers: HashMap<ServerTxId, ServerTx>,
    server_index: HashMap<ServerKey, ServerTxId>,
    ack_index: HashMap<AckKey, ServerTxId>,
    clients: HashMap<ClientTxId, ClientTx>,
    client_index: HashMap<ClientKey, ClientTxId>,
    timers: TimerQueue,
}

impl Endpoint {
    /// A new endpoint with no transactions.
    pub fn new(config: EndpointConfig) -> Self {
        Endpoint {
            config,
            next_id: 1,
            out: VecDeque::new(),
            servers: HashMap::new(),
            server_index: HashMap::new(),
            ack_index: HashMap::new(),
            clients: HashMap::new(),
            client_index: HashMap::new(),
            timers: TimerQueue::default(),
        }
    }

    fn alloc(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        id
    }

    /// Re-read the deadline of server transaction `id` after it changed state.
    fn resched_server(&mut self, id: ServerTxId) {
        let at = self.servers.get(&id).and_then(ServerTx::deadline);
        self.timers.schedule(TxRef::Server(id), at);
    }

    /// Re-read the deadline of client transaction `id` after it changed state.
    fn resched_client(&mut self, id: ClientTxId) {
        let at = self.clients.get(&id).and_then(ClientTx::deadline);
        self.timers.schedule(TxRef::Client(id), at);
    }

    fn event(&mut self, e: Event) {
        self.out.push_back(Output::Event(e));
    }

    /// Feed one datagram (UDP) or one framed message (TCP).
    pub fn handle_input(&mut self, now: Instant, from: Peer, bytes: &[u8]) {
        match Message::parse(bytes) {
            Ok(Message::Request(req)) => self.on_request(now, from, req),
            Ok(Message::Response(resp)) => self.on_response(now, resp),
            Err(e) => self.on_malformed(from, bytes, &e),
        }
    }

    fn on_malformed(&mut self, from: Peer, bytes: &[u8], err: &parse::ParseError) {
        let answer = stateless::bad_request(bytes, err);
        let answered = answer.is_some();
        if let Some(resp) = answer {
            transmit(&mut self.out, from, resp.to_bytes());
        }
        let reason = err.to_string();
        self.event(Event::Malformed {
            from,
            reason,
            answered,
        });
    }

    fn on_request(&mut self, now: Instant, from: Peer, mut req: Request) {
        let Some(key) = ServerKey::of(&req, None) else {
            // Validated messages always have a top Via; be defensive anyway.
            return self.event(Event::Malformed {
                from,
                reason: "no usable Via".into(),
                answered: false,
            });
        };
        stateless::stamp_via(from, &mut req);
        if req.method == Method::Ack {
            return self.on_ack(now, from, req, &key);
        }
        if let Some(id) = self.server_index.get(&key).copied() {
            match self.servers.get_mut(&id) {
                Some(ServerTx::Invite(t)) => t.on_retransmission(&mut self.out),
                Some(ServerTx::NonInvite(t)) => t.on_retransmission(&mut self.out),
                None => {}
            }
            return;
        }
        let id = ServerTxId(self.alloc());
        self.server_index.insert(key.clone(), id);
        match req.method {
            Method::Invite => {
                let mut tx = ServerInvite::new(id, from, req.clone(), key);
                // RFC 3261 17.2.1: 100 Trying at once, the TU may be slow.
                let trying = Response::for_request(&req, 100, "Trying");
                let _ = tx.respond(now, &self.config, &trying, &mut self.out);
                self.servers.insert(id, ServerTx::Invite(tx));
                self.resched_server(id);
                self.event(Event::Request {
                    tx: id,
                    from,
                    request: req,
                });
            }
            Method::Cancel => {
                let tx = ServerNonInvite::new(id, from, req.clone(), key, now, &self.config);
                self.servers.insert(id, ServerTx::NonInvite(tx));
                self.resched_server(id);
                self.on_cancel(now, id, &req);
            }
            _ => {
                let tx = ServerNonInvite::new(id, from, req.clone(), key, now, &self.config);
                self.servers.insert(id, ServerTx::NonInvite(tx));
                self.resched_server(id);
                self.event(Event::Request {
                    tx: id,
                    from,
                    request: req,
                });
            }
        }
    }

    /// RFC 3261 9.2: CANCEL matches the INVITE with the same transaction key but method.
    fn on_cancel(&mut self, now: Instant, cancel_tx: ServerTxId, cancel: &Request) {
        let target = ServerKey::of(cancel, Some(&Method::Invite))
            .and_then(|k| self.server_index.get(&k).copied());
        let invite = target.and_then(|t| match self.servers.get(&t) {
            Some(ServerTx::Invite(inv)) => Some((
                t,
                inv.is_proceeding(),
                inv.request.call_id().unwrap_or_default().to_string(),
                inv.to_tag.clone(),
            )),
            _ => None,
        });
        let resp = match &invite {
            Some((_, _, _, to_tag)) => {
                let ok = Response::for_request(cancel, 200, "OK");
                // Same To tag as the INVITE's responses (9.2); none yet if only 100 was sent.
                match to_tag {
                    Some(tag) => ok.with_to_tag(tag),
                    None => ok,
                }
            }
            None => Response::for_request(cancel, 481, "Call/Transaction Does Not Exist")
                .with_to_tag(&stateless::tag_for(cancel)),
        };
        let _ = self.respond(now, cancel_tx, resp);
        if let Some((tx, true, call_id, _)) = invite {
            self.event(Event::Cancelled { tx, call_id });
        }
    }

    fn on_ack(&mut self, now: Instant, from: Peer, ack: Request, key: &ServerKey) {
        if let Some(id) = self.server_index.get(key).copied() {
            if let Some(ServerTx::Invite(t)) = self.servers.get_mut(&id) {
                if t.on_ack(now, &self.config) {
                    if t.state == super::server_invite::State::Terminated {
                        self.remove_server(id);
                    } else {
                        self.resched_server(id);
                    }
                    return;
                }
            }
        }
        let matched = match AckKey::of_ack(&ack).and_then(|k| self.ack_index.get(&k).copied()) {
            Some(id) => {
                if let Some(ServerTx::Invite(t)) = self.servers.get_mut(&id) {
                    t.on_2xx_ack();
                    self.resched_server(id);
                }
                true
            }
            None => false,
        };
        self.event(Event::Ack {
            from,
            request: ack,
            matched,
        });
    }

    fn on_response(&mut self, now: Instant, resp: Response) {
        let Some(id) =
            ClientKey::of_response(&resp).and_then(|k| self.client_index.get(&k).copied())
        else {
            return; // stray response: RFC 3261 17.1.3 says discard
        };
        let done = match self.clients.get_mut(&id) {
            Some(ClientTx::Invite(t)) => {
                t.on_response(now, &self.config, resp, &mut self.out);
                t.is_terminated()
            }
            Some(ClientTx::NonInvite(t)) => {
                t.on_response(now, &self.config, resp, &mut self.out);
                t.is_terminated()
            }
            None => false,
        };
        if done {
            self.remove_client(id);
        } else {
            self.resched_client(id);
        }
    }

    /// TU answers a server transaction. A 2xx to INVITE is retransmitted (T1 doubling to T2,
    /// any transport) until its ACK or 64*T1, then [`Event::AckTimeout`].
    pub fn respond(
        &mut self,
        now: Instant,
        tx: ServerTxId,
        response: Response,
    ) -> Result<(), EndpointError> {
        if !(100..=699).contains(&response.status) {
            return Err(EndpointError::InvalidStatus(response.status));
        }
        let done = match self.servers.get_mut(&tx) {
            None => return Err(EndpointError::UnknownTransaction(tx)),
            Some(ServerTx::Invite(t)) => {
                t.respond(now, &self.config, &response, &mut self.out)?;
                if let Some(k) = t.ack_key.clone() {
                    self.ack_index.insert(k, tx);
                }
                false
            }
            Some(ServerTx::NonInvite(t)) => {
                t.respond(now, &self.config, &response, &mut self.out)?;
                t.is_terminated()
            }
        };
        if done {
            self.remove_server(tx);
        } else {
            self.resched_server(tx);
        }
        Ok(())
    }

    /// UAC: start a client transaction. The request must carry a top Via with a branch.
    /// ACK is sent statelessly (it never has a transaction, 17.1.1.3).
    pub fn send_request(&mut self, now: Instant, to: Peer, request: Request) -> ClientTxId {
        let id = ClientTxId(self.alloc());
        let key = ClientKey::of_request(&request);
        let (Some(key), false) = (key, request.method == Method::Ack) else {
            transmit(&mut self.out, to, request.to_bytes());
            return id;
        };
        let tx = if request.method == Method::Invite {
            ClientTx::Invite(ClientInvite::new(
                id,
                key.clone(),
                to,
                request,
                now,
                &self.config,
                &mut self.out,
            ))
        } else {
            ClientTx::NonInvite(ClientNonInvite::new(
                id,
                key.clone(),
                to,
                &request,
                now,
                &self.config,
                &mut self.out,
            ))
        };
        if let Some(old) = self.client_index.insert(key, id) {
            self.clients.remove(&old); // branch reuse by the TU: the newer one wins
            self.timers.schedule(TxRef::Client(old), None);
        }
        self.clients.insert(id, tx);
        self.resched_client(id);
        id
    }

    /// Send a message outside any transaction (ACK for 2xx, TU re-sends).
    pub fn send_stateless(&mut self, to: Peer, message: Message) {
        transmit(&mut self.out, to, message.to_bytes());
    }

    /// Next output to act on.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When [`Endpoint::handle_timeout`] should be called next (O(1): the top of the
    /// timer queue).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Fire every timer due at `now`, earliest first; terminated transactions are removed.
    /// Only expired transactions are visited.
    pub fn handle_timeout(&mut self, now: Instant) {
        for due in self.timers.take_due(now) {
            match due {
                TxRef::Server(id) => {
                    let done = match self.servers.get_mut(&id) {
                        Some(ServerTx::Invite(t)) => t.on_timer(now, &mut self.out),
                        Some(ServerTx::NonInvite(t)) => t.on_timer(now),
                        None => continue,
                    };
                    if done {
                        self.remove_server(id);
                    } else {
                        self.resched_server(id);
                    }
                }
                TxRef::Client(id) => {
                    let done = match self.clients.get_mut(&id) {
                        Some(ClientTx::Invite(t)) => t.on_timer(now, &mut self.out),
                        Some(ClientTx::NonInvite(t)) => t.on_timer(now, &mut self.out),
                        None => continue,
                    };
                    if done {
                        self.remove_client(id);
                    } else {
                        self.resched_client(id);
                    }
                }
            }
        }
    }

    fn remove_server(&mut self, id: ServerTxId) {
        let (key, ack_key) = match self.servers.remove(&id) {
            Some(ServerTx::Invite(t)) => (t.key, t.ack_key),
            Some(ServerTx::NonInvite(t)) => (t.key, None),
            None => return,
        };
        self.timers.schedule(TxRef::Server(id), None);
        if self.server_index.get(&key) == Some(&id) {
            self.server_index.remove(&key);
        }
        if let Some(k) = ack_key {
            if self.ack_index.get(&k) == Some(&id) {
                self.ack_index.remove(&k);
            }
        }
    }

    fn remove_client(&mut self, id: ClientTxId) {
        let key = match self.clients.remove(&id) {
            Some(ClientTx::Invite(t)) => t.key,
            Some(ClientTx::NonInvite(t)) => t.key,
            None => return,
        };
        self.timers.schedule(TxRef::Client(id), None);
        if self.client_index.get(&key) == Some(&id) {
            self.client_index.remove(&key);
        }
    }

    /// Live transactions (server + client).
    pub fn active_transactions(&self) -> usize {
        self.servers.len() + self.clients.len()
    }

    /// The request that opened server transaction `tx`.
    pub fn server_tx_request(&self, tx: ServerTxId) -> Option<&Request> {
        match self.servers.get(&tx)? {
            ServerTx::Invite(t) => Some(&t.request),
            ServerTx::NonInvite(t) => Some(&t.request),
        }
    }

    /// The peer of server transaction `tx` (where its responses go).
    pub fn server_tx_peer(&self, tx: ServerTxId) -> Option<Peer> {
        match self.servers.get(&tx)? {
            ServerTx::Invite(t) => Some(t.peer),
            ServerTx::NonInvite(t) => Some(t.peer),
        }
    }
}
