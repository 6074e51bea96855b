#include "sync/agent_port.h"

namespace floorlink::sync {
namespace {

class OneStep final : public CommandApplication {
 public:
  OneStep(AgentPort& port, Command command) : port_(port), command_(std::move(command)) {}
  Result<std::optional<CommandOutcome>> step() override {
    auto outcome = port_.applyCommand(command_);
    if (!outcome) return std::unexpected(outcome.error());
    return std::optional<CommandOutcome>{*outcome};
  }

 private:
  AgentPort& port_;
  Command command_;
};

}  // namespace

std::unique_ptr<CommandApplication> AgentPort::startCommand(Command command) {
  return std::make_unique<OneStep>(*this, std::move(command));
}

}  // namespace floorlink::sync
