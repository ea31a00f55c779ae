package org.xsm.server.pool;

import static org.xsm.server.rpc.Results.none;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.xsm.server.db.Database;
import org.xsm.server.model.Host;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;

/**
 * The pool's messages: membership ({@code pool.join}, {@code pool.eject}), the calls hosts make to
 * each other ({@code session.slave_login}, {@code pool.initial_auth}, {@code
 * host.tickle_heartbeat}, and xsm's {@code pool.xsm_add_member}, the master's side of a join) and
 * the changes of master.
 */
@ApplicationScoped
public class PoolRpc implements RpcModule {
  @Inject PoolService pool;
  @Inject PoolFailover failover;
  @Inject Heartbeats heartbeats;
  @Inject Database db;
  @Inject PoolAgent agent;
  @Inject PoolStorage storage;
  @Inject AgentVdis vdis;

  @Override
  public void register(Dispatcher d) {
    for (String name : java.util.List.of("pool.join", "pool.join_force")) {
      d.register(
          name,
          4,
          true,
          true,
          (c, a) -> none(() -> pool.join(Params.str(a, 0), Params.str(a, 1), Params.str(a, 2))));
    }
    d.register("pool.eject", 2, true, true, (c, a) -> none(() -> pool.eject(Params.ref(a, 0))));
    d.register("pool.initial_auth", 1, true, false, (c, a) -> pool.initialAuth());
    d.register("session.slave_login", 2, false, false, (c, a) -> pool.slaveLogin(Params.str(a, 1)));
    d.register(
        "pool.xsm_add_member",
        2,
        true,
        true,
        (c, a) -> pool.addMember(Params.stringMap(a.get(0), "host")));
    d.register(
        "host.tickle_heartbeat",
        3,
        true,
        true,
        (c, a) -> {
          org.xsm.server.model.Ref<Host> h = Params.ref(a, 0);
          db.read(Host.CLASS, h);
          return heartbeats.tickle(h, Params.stringMap(a.get(1), "stuff"));
        });
    d.register(
        "pool.designate_new_master",
        2,
        true,
        true,
        (c, a) -> none(() -> failover.designate(Params.ref(a, 0))));
    d.register(
        "pool.emergency_transition_to_master",
        1,
        true,
        true,
        (c, a) -> none(failover::becomeMaster));
    d.register(
        "pool.emergency_reset_master",
        2,
        true,
        true,
        (c, a) -> none(() -> failover.resetMaster(Params.str(a, 0))));
    d.register("pool.recover_slaves", 1, true, true, (c, a) -> failover.recoverSlaves());
    // The agent's messages: the master drives the domains of the host holding a VM.
    d.register(
        PoolAgent.CREATE,
        3,
        true,
        true,
        (c, a) ->
            none(() -> agent.create(Params.str(a, 0), Params.bool(a.get(1), "start_paused"))));
    d.register(
        PoolStorage.PLUG,
        5,
        true,
        true,
        (c, a) ->
            none(
                () ->
                    storage.agentPlug(
                        Params.str(a, 0),
                        Params.str(a, 1),
                        Params.stringMap(a.get(2), "device_config"),
                        Params.stringMap(a.get(3), "other_config"))));
    d.register(
        PoolStorage.UNPLUG,
        2,
        true,
        true,
        (c, a) -> none(() -> storage.agentUnplug(Params.str(a, 0))));
    d.register(
        AgentVdis.ATTACH,
        6,
        true,
        true,
        (c, a) ->
            none(
                () ->
                    vdis.attach(
                        Params.str(a, 0),
                        Params.str(a, 1),
                        Params.str(a, 2),
                        Params.str(a, 3),
                        Params.bool(a.get(4), "writable"))));
    d.register(
        AgentVdis.DETACH, 2, true, true, (c, a) -> none(() -> vdis.detach(Params.str(a, 0))));
    d.register(
        AgentVdis.SUSPEND, 2, true, true, (c, a) -> none(() -> vdis.suspend(Params.str(a, 0))));
    d.register(
        AgentVdis.RESUME, 2, true, true, (c, a) -> none(() -> vdis.resume(Params.str(a, 0))));
    d.register(
        AgentVdis.REOPEN, 2, true, true, (c, a) -> none(() -> vdis.reopen(Params.str(a, 0))));
    d.register(PoolAgent.MIGRATE_IN, 2, true, true, (c, a) -> agent.migrateIn(Params.str(a, 0)));
    d.register(
        PoolAgent.MIGRATE_OUT,
        4,
        true,
        true,
        (c, a) ->
            agent.migrateOut(
                Params.str(a, 0), Params.str(a, 1), Params.lng(a.get(2), "downtime_ms")));
    d.register(
        PoolAgent.MIGRATE_FINISH,
        4,
        true,
        true,
        (c, a) ->
            none(
                () ->
                    agent.migrateFinish(
                        Params.str(a, 0),
                        Params.bool(a.get(1), "paused"),
                        Params.lng(a.get(2), "timeout"))));
    d.register(
        PoolAgent.CONTROL,
        4,
        true,
        true,
        (c, a) ->
            agent.control(Params.str(a, 0), Params.str(a, 1), Params.lng(a.get(2), "timeout")));
  }
}
