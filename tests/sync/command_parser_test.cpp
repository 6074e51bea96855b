// Command and ack parsing (contract §4, §6; C-C4, C-A1, C-A3).
#include "sync/command_parser.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace floorlink::sync {
namespace {

using nlohmann::json;

json exampleWave() {
  // The example of contract §8.
  return json::parse(R"({"v":1,"cmd_id":"c-1","type":"wave.assign","sent_at":1763780000000,
    "wave_id":"W-1","revision":1,"tasks":[
      {"task_id":"T-1","kind":"pick","order_id":"O-1","station":"cart1",
       "bin":"A-01-02","sku":"SKU-9","gtin":"09506000134352","qty":2,
       "description":"Blue mug"}]})");
}

const Command& asCommand(const ParsedMessage& m) {
  EXPECT_TRUE(std::holds_alternative<Command>(m)) << [&] {
    if (auto* r = std::get_if<RejectedCommand>(&m)) {
      std::string s;
      for (auto& e : r->errors) s += e.path + " " + e.code + ": " + e.message + "\n";
      return s;
    }
    if (auto* i = std::get_if<InvalidMessage>(&m)) return "invalid: " + i->reason;
    return std::string();
  }();
  static Command empty;
  return std::holds_alternative<Command>(m) ? std::get<Command>(m) : empty;
}

RejectedCommand asRejected(const ParsedMessage& m) {
  EXPECT_TRUE(std::holds_alternative<RejectedCommand>(m));
  return std::holds_alternative<RejectedCommand>(m) ? std::get<RejectedCommand>(m) : RejectedCommand{};
}

InvalidMessage asInvalid(const ParsedMessage& m) {
  EXPECT_TRUE(std::holds_alternative<InvalidMessage>(m));
  return std::holds_alternative<InvalidMessage>(m) ? std::get<InvalidMessage>(m) : InvalidMessage{};
}

bool hasError(const RejectedCommand& r, const std::string& path, const std::string& code) {
  for (const auto& e : r.errors) {
    if (e.path == path && e.code == code) return true;
  }
  return false;
}

std::string dumpErrors(const RejectedCommand& r) {
  std::string s;
  for (auto& e : r.errors) s += e.path + " " + e.code + "; ";
  return s;
}

TEST(CommandParser, ContractExampleWaveAssignIsValid) {
  auto parsed = parseCommand(exampleWave().dump());
  const auto& cmd = asCommand(parsed);
  EXPECT_EQ(cmd.cmdId, "c-1");
  EXPECT_EQ(cmd.type, "wave.assign");
  EXPECT_EQ(cmd.sentAt, 1763780000000);
  const auto& w = std::get<WaveAssign>(cmd.body);
  EXPECT_EQ(w.waveId, "W-1");
  EXPECT_EQ(w.revision, 1);
  EXPECT_FALSE(w.priority);
  ASSERT_EQ(w.tasks.size(), 1u);
  const auto& t = w.tasks[0];
  EXPECT_EQ(t.taskId, "T-1");
  EXPECT_EQ(t.kind, TaskKind::kPick);
  EXPECT_EQ(t.orderId, "O-1");
  EXPECT_EQ(t.station, "cart1");
  EXPECT_EQ(t.pick.bin, "A-01-02");
  EXPECT_EQ(t.pick.sku, "SKU-9");
  EXPECT_EQ(t.pick.gtin, "09506000134352");
  EXPECT_EQ(t.pick.qty, 2);
  EXPECT_EQ(t.pick.description, "Blue mug");
  // TaskSpec::json is the task object, compact.
  EXPECT_EQ(json::parse(t.json), exampleWave()["tasks"][0]);
  EXPECT_EQ(t.json.find('\n'), std::string::npos);
  EXPECT_EQ(t.json.find(": "), std::string::npos);
}

TEST(CommandParser, PackAndShipTasksAreParsed) {
  auto j = exampleWave();
  j["priority"] = 5;
  j["revision"] = 3;
  j["tasks"].push_back(json::parse(R"({"task_id":"T-2","kind":"pack","order_id":"O-1","station":"bench1",
      "lines":[{"sku":"SKU-9","gtin":"12345670","qty":2},{"sku":"SKU-3","qty":1}],
      "expected_weight_g":1200,"tolerance_g":50,
      "label":{"template":"parcel","fields":{"name":"Ada","city":"Oslo"}},
      "sscc":"003456789012345675","carrier":"DHL","tracking":"JJD000390007","future_field":{"x":[1,2]}})"));
  j["tasks"].push_back(json::parse(R"({"task_id":"T-3","kind":"ship","order_id":"O-1","tracking":"JJD1","door":"D4"})"));
  j["tasks"].push_back(json::parse(R"({"task_id":"T-4","kind":"ship","order_id":"O-2","sscc":"003456789012345675"})"));
  auto parsed = parseCommand(j.dump());
  const auto& w = std::get<WaveAssign>(asCommand(parsed).body);
  EXPECT_EQ(w.revision, 3);
  EXPECT_EQ(w.priority, 5);
  ASSERT_EQ(w.tasks.size(), 4u);
  const auto& pack = w.tasks[1];
  EXPECT_EQ(pack.kind, TaskKind::kPack);
  ASSERT_EQ(pack.pack.lines.size(), 2u);
  EXPECT_EQ(pack.pack.lines[0].gtin, "12345670");
  EXPECT_EQ(pack.pack.lines[1].qty, 1);
  EXPECT_EQ(pack.pack.expectedWeightG, 1200);
  EXPECT_EQ(pack.pack.toleranceG, 50);
  EXPECT_EQ(pack.pack.label.templateName, "parcel");
  EXPECT_EQ(pack.pack.label.fields.at("city"), "Oslo");
  EXPECT_EQ(pack.pack.sscc, "003456789012345675");
  EXPECT_EQ(pack.pack.tracking, "JJD000390007");
  // Unknown fields are ignored for validation but kept in the stored JSON.
  EXPECT_TRUE(json::parse(pack.json).contains("future_field"));
  EXPECT_EQ(w.tasks[2].kind, TaskKind::kShip);
  EXPECT_EQ(w.tasks[2].ship.tracking, "JJD1");
  EXPECT_EQ(w.tasks[2].ship.door, "D4");
  EXPECT_EQ(w.tasks[3].ship.sscc, "003456789012345675");
}

TEST(CommandParser, OtherCommandTypes) {
  auto c1 = parseCommand(R"({"v":1,"cmd_id":"c-2","type":"wave.cancel","sent_at":1,"wave_id":"W-1","reason":"late"})");
  EXPECT_EQ(std::get<WaveCancel>(asCommand(c1).body).reason, "late");
  auto c2 = parseCommand(R"({"v":1,"cmd_id":"c-3","type":"task.cancel","sent_at":1,"task_id":"T-1"})");
  EXPECT_EQ(std::get<TaskCancel>(asCommand(c2).body).taskId, "T-1");
  auto c3 = parseCommand(R"({"v":1,"cmd_id":"c-4","type":"resync","sent_at":1,"extra":true})");
  EXPECT_TRUE(std::holds_alternative<Resync>(asCommand(c3).body));
}

// C-C4: per-field errors with paths like tasks[3].qty.
TEST(CommandParser, C_C4_WrongTypesGiveFieldPathsAndCodes) {
  auto j = exampleWave();
  for (int i = 0; i < 3; ++i) j["tasks"].push_back(j["tasks"][0]);
  for (int i = 1; i < 4; ++i) j["tasks"][i]["task_id"] = "T-" + std::to_string(i + 1);
  j["tasks"][3]["qty"] = "2";
  j["tasks"][2]["qty"] = 0;
  j["tasks"][1]["gtin"] = "12345";
  j["tasks"][1]["bin"] = 7;
  j["revision"] = 1.5;
  j["sent_at"] = "yesterday";
  auto r = asRejected(parseCommand(j.dump()));
  EXPECT_EQ(r.cmdId, "c-1");
  EXPECT_EQ(r.type, "wave.assign");
  EXPECT_TRUE(hasError(r, "tasks[3].qty", "wrong_type")) << dumpErrors(r);
  EXPECT_TRUE(hasError(r, "tasks[2].qty", "out_of_range")) << dumpErrors(r);
  EXPECT_TRUE(hasError(r, "tasks[1].gtin", "bad_format")) << dumpErrors(r);
  EXPECT_TRUE(hasError(r, "tasks[1].bin", "wrong_type")) << dumpErrors(r);
  EXPECT_TRUE(hasError(r, "revision", "wrong_type")) << dumpErrors(r);
  EXPECT_TRUE(hasError(r, "sent_at", "wrong_type")) << dumpErrors(r);
  for (const auto& e : r.errors) EXPECT_FALSE(e.message.empty());
}

TEST(CommandParser, C_C4_MissingAndBadFields) {
  auto j = exampleWave();
  j["tasks"][0].erase("order_id");
  j["tasks"][0]["task_id"] = "T 1";  // space: not an id
  j["tasks"][0]["kind"] = "sort";
  j.erase("wave_id");
  auto r = asRejected(parseCommand(j.dump()));
  EXPECT_TRUE(hasError(r, "wave_id", "missing")) << dumpErrors(r);
  EXPECT_TRUE(hasError(r, "tasks[0].order_id", "missing")) << dumpErrors(r);
  EXPECT_TRUE(hasError(r, "tasks[0].task_id", "bad_format")) << dumpErrors(r);
  EXPECT_TRUE(hasError(r, "tasks[0].kind", "bad_value")) << dumpErrors(r);
}

TEST(CommandParser, C_C4_TaskCountLimitsAndDuplicates) {
  auto j = exampleWave();
  j["tasks"] = json::array();
  EXPECT_TRUE(hasError(asRejected(parseCommand(j.dump())), "tasks", "out_of_range"));
  j = exampleWave();
  j["tasks"].push_back(j["tasks"][0]);  // same task_id twice
  EXPECT_TRUE(hasError(asRejected(parseCommand(j.dump())), "tasks[1].task_id", "duplicate"));
  ParserLimits small;
  small.maxTasks = 3;
  j = exampleWave();
  for (int i = 1; i < 4; ++i) {
    auto t = j["tasks"][0];
    t["task_id"] = "T-" + std::to_string(i + 1);
    j["tasks"].push_back(t);
  }
  EXPECT_TRUE(hasError(asRejected(parseCommand(j.dump(), small)), "tasks", "out_of_range"));
}

TEST(CommandParser, C_C4_ShipNeedsSsccOrTrackingAndSsccIs18Digits) {
  auto base = json::parse(R"({"v":1,"cmd_id":"c-9","type":"wave.assign","sent_at":1,"wave_id":"W","revision":1,
    "tasks":[{"task_id":"T","kind":"ship","order_id":"O"}]})");
  EXPECT_TRUE(hasError(asRejected(parseCommand(base.dump())), "tasks[0].sscc", "missing"));
  base["tasks"][0]["sscc"] = "12345678901234567";  // 17 digits
  EXPECT_TRUE(hasError(asRejected(parseCommand(base.dump())), "tasks[0].sscc", "bad_format"));
  base["tasks"][0]["sscc"] = "12345678901234567X";
  EXPECT_TRUE(hasError(asRejected(parseCommand(base.dump())), "tasks[0].sscc", "bad_format"));
}

TEST(CommandParser, C_C4_PackLinesAndLabelChecked) {
  auto base = json::parse(R"({"v":1,"cmd_id":"c-9","type":"wave.assign","sent_at":1,"wave_id":"W","revision":1,
    "tasks":[{"task_id":"T","kind":"pack","order_id":"O","lines":[{"sku":"S","qty":-1}],
              "expected_weight_g":10,"tolerance_g":"5","label":{"template":"t","fields":{"a":1}}}]})");
  auto r = asRejected(parseCommand(base.dump()));
  EXPECT_TRUE(hasError(r, "tasks[0].lines[0].qty", "out_of_range")) << dumpErrors(r);
  EXPECT_TRUE(hasError(r, "tasks[0].tolerance_g", "wrong_type")) << dumpErrors(r);
  EXPECT_TRUE(hasError(r, "tasks[0].label.fields.a", "wrong_type")) << dumpErrors(r);
}

TEST(CommandParser, C_C4_UnknownTypeAndVersion) {
  auto r = asRejected(parseCommand(R"({"v":2,"cmd_id":"c-1","type":"wave.explode","sent_at":1})"));
  EXPECT_TRUE(hasError(r, "type", "unknown_type")) << dumpErrors(r);
  EXPECT_TRUE(hasError(r, "v", "unsupported_version")) << dumpErrors(r);
  auto r2 = asRejected(parseCommand(R"({"cmd_id":"c-1","type":5})"));
  EXPECT_TRUE(hasError(r2, "v", "missing"));
  EXPECT_TRUE(hasError(r2, "type", "wrong_type"));
  EXPECT_TRUE(hasError(r2, "sent_at", "missing"));
}

TEST(CommandParser, C_C4_ErrorListIsCapped) {
  auto j = exampleWave();
  for (int i = 1; i < 300; ++i) {
    auto t = j["tasks"][0];
    t["task_id"] = "T-" + std::to_string(i + 1);
    t["qty"] = "x";
    j["tasks"].push_back(t);
  }
  auto r = asRejected(parseCommand(j.dump()));
  ASSERT_EQ(r.errors.size(), 101u);
  EXPECT_EQ(r.errors.back().code, "too_many_errors");
}

// C-C4: no readable cmd_id → InvalidMessage with reason and escaped head.
TEST(CommandParser, C_C4_InvalidMessages) {
  EXPECT_EQ(asInvalid(parseCommand("hello \x01 world")).reason, "not_json");
  EXPECT_EQ(asInvalid(parseCommand("[1,2]")).reason, "not_object");
  EXPECT_EQ(asInvalid(parseCommand(R"({"v":1,"type":"resync"})")).reason, "no_cmd_id");
  EXPECT_EQ(asInvalid(parseCommand(R"({"v":1,"cmd_id":42})")).reason, "bad_cmd_id");
  EXPECT_EQ(asInvalid(parseCommand(R"({"v":1,"cmd_id":""})")).reason, "bad_cmd_id");
  EXPECT_EQ(asInvalid(parseCommand(R"({"cmd_id":")" + std::string(129, 'a') + "\"}")).reason, "bad_cmd_id");
  EXPECT_EQ(asInvalid(parseCommand("")).reason, "not_json");
  std::string deep = "{\"cmd_id\":\"c\",\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_EQ(asInvalid(parseCommand(deep)).reason, "too_deep");
  EXPECT_EQ(asInvalid(parseCommand("{\"cmd_id\":\"c\",\"s\":\"\xff\xfe\"}")).reason, "not_json");
}

TEST(CommandParser, C_C4_TooLargeEvenWithReadableCmdId) {
  ParserLimits limits;
  limits.maxPayload = 1024;
  auto j = exampleWave();
  j["pad"] = std::string(2000, 'x');
  auto inv = asInvalid(parseCommand(j.dump(), limits));
  EXPECT_EQ(inv.reason, "too_large");
  EXPECT_LE(inv.head.size(), 256u * 4);
  EXPECT_EQ(inv.head.substr(0, 8), R"({"cmd_id)");
}

TEST(CommandParser, C_C4_HeadIsFirst256BytesEscaped) {
  std::string raw = "ab\\c\n\"d\x01\xff";
  EXPECT_EQ(escapeHead(raw), "ab\\\\c\\x0a\"d\\x01\\xff");
  std::string big(1000, 'z');
  EXPECT_EQ(escapeHead(big), std::string(256, 'z'));
  for (unsigned char c : escapeHead(std::string("\x80\x00\x7f", 3))) {
    EXPECT_GE(c, 0x20);
    EXPECT_LT(c, 0x7f);
  }
}

TEST(CommandParser, IdsFollowContractSection1) {
  EXPECT_TRUE(isValidId("dc1"));
  EXPECT_TRUE(isValidId("A_b-9"));
  EXPECT_TRUE(isValidId(std::string(64, 'a')));
  EXPECT_FALSE(isValidId(std::string(65, 'a')));
  EXPECT_FALSE(isValidId(""));
  EXPECT_FALSE(isValidId("a/b"));
  EXPECT_FALSE(isValidId("a+b"));
}

// C-A1 / C-A3: acks are parsed strictly.
TEST(AckParser, C_A1_StrictAcks) {
  EXPECT_EQ(parseAck(R"({"v":1,"acked_through":17})").value(), 17);
  EXPECT_EQ(parseAck(R"({"v":1,"acked_through":0,"extra":"x"})").value(), 0);
  EXPECT_FALSE(parseAck(R"({"v":1,"acked_through":"17"})"));
  EXPECT_FALSE(parseAck(R"({"v":1,"acked_through":-1})"));
  EXPECT_FALSE(parseAck(R"({"v":1,"acked_through":1.5})"));
  EXPECT_FALSE(parseAck(R"({"v":1,"acked_through":18446744073709551615})"));
  EXPECT_FALSE(parseAck(R"({"acked_through":3})"));
  EXPECT_FALSE(parseAck(R"({"v":2,"acked_through":3})"));
  EXPECT_FALSE(parseAck("17"));
  EXPECT_FALSE(parseAck("not json"));
  EXPECT_FALSE(parseAck(std::string(100, '[')));
}

}  // namespace
}  // namespace floorlink::sync
