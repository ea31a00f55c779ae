package org.xsm.server.guestconsole;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.xsm.server.model.ConsoleProtocol;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Vm;

/**
 * A test-only domain implementation of {@link ConsoleEndpoints}: a test registers where a VM's
 * consoles are (a QEMU it started itself) before starting the VM, and forgets them afterwards.
 */
@ApplicationScoped
public class TestConsoleEndpoints implements ConsoleEndpoints {
  private final Map<String, Map<ConsoleProtocol, ConsoleEndpoint>> byVm = new ConcurrentHashMap<>();

  public void register(Ref<Vm> vm, ConsoleProtocol protocol, ConsoleEndpoint endpoint) {
    byVm.computeIfAbsent(vm.value(), k -> new EnumMap<>(ConsoleProtocol.class))
        .put(protocol, endpoint);
  }

  public void forget(Ref<Vm> vm) {
    byVm.remove(vm.value());
  }

  @Override
  public Optional<ConsoleEndpoint> find(Ref<Vm> vm, ConsoleProtocol protocol) {
    Map<ConsoleProtocol, ConsoleEndpoint> m = byVm.get(vm.value());
    return m == null ? Optional.empty() : Optional.ofNullable(m.get(protocol));
  }
}
