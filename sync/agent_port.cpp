#include "sync/agent_port.h"

namespace floorlink::sync {
namespace {

class OneStep final : public CommandApplication {
 public:
  OneStep(std::function<Result<CommandOutcome>(const Command&)> apply, Command command)
      : apply_(std::move(apply)), command_(std::move(command)) {}
  Result<std::optional<CommandOutcome>> step() override {
    auto outcome = apply_(command_);
    if (!outcome) return std::unexpected(outcome.error());
    return std::optional<CommandOutcome>{*outcome};
  }

 private:
  std::function<Result<CommandOutcome>(const Command&)> apply_;
  Command command_;
};

}  // namespace

std::unique_ptr<CommandApplication> inOneStep(std::function<Result<CommandOutcome>(const Command&)> apply,
                                              Command command) {
  return std::make_unique<OneStep>(std::move(apply), std::move(command));
}

std::unique_ptr<CommandApplication> AgentPort::startCommand(Command command) {
  return inOneStep([this](const Command& c) { return applyCommand(c); }, std::move(command));
}

}  // namespace floorlink::sync
