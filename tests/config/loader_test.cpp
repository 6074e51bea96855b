#include "config/loader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace floorlink::config {
namespace {

constexpr const char* kMinimal = R"(
[agent]
site = "dc1"
id = "pc7"
)";

constexpr const char* kFull = R"(
[agent]
site = "dc1"
id = "pc7"
data_dir = "/var/lib/floorlink"

[mqtt]
url = "ssl://broker.dc1:8883"
username = "pc7"
password = "s3cret"
ca_file = "@DIR@/ca.pem"
cert_file = "@DIR@/c.pem"
key_file = "@DIR@/c.key"
keepalive_s = 10
inflight = 32

[storage]
synchronous = "normal"
retention_days = 3

[[devices]]
id = "scanner1"
kind = "scanner"
address = "serial:/dev/ttyUSB0?baud=9600&format=7E1"
[devices.options]
suffix = "CR"
beep = 3

[[devices]]
id = "scale1"
kind = "scale"
address = "usb://0922:8003?serial=ABC"
protocol = "hid-pos"

[[devices]]
id = "printer1"
kind = "printer"
address = "tcp://10.1.2.3:9100"

[[stations]]
id = "pack1"
kind = "pack"
scanner = "scanner1"
scale = "scale1"
printer = "printer1"

[log]
level = "debug"
[log.modules]
sync = "trace"
)";

// kFull with its TLS files made (the loader checks they exist).
std::string fullConfig() {
  static const std::string dir = [] {
    std::string d = ::testing::TempDir() + "floorlink-loader-tls";
    std::filesystem::create_directories(d);
    for (const char* f : {"ca.pem", "c.pem", "c.key"}) std::ofstream(d + "/" + f) << "x\n";
    return d;
  }();
  std::string text = kFull;
  for (size_t at; (at = text.find("@DIR@")) != std::string::npos;) text.replace(at, 5, dir);
  return text;
}

std::string errorOf(std::string_view text, std::vector<std::string> overrides = {}) {
  auto c = loadString(text, "floorlink.toml", overrides);
  EXPECT_FALSE(c.has_value()) << "expected an error";
  return c ? "" : c.error().message;
}

TEST(ConfigLoader, MinimalConfigWithNoDevicesIsValid) {
  auto c = loadString(kMinimal, "floorlink.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->agent.site, "dc1");
  EXPECT_EQ(c->agent.id, "pc7");
  EXPECT_EQ(c->mqtt.clientId, "dc1-pc7");
  EXPECT_TRUE(c->devices.empty());
  EXPECT_TRUE(c->stations.empty());
  EXPECT_EQ(c->mqtt.ackTimeout, std::chrono::seconds(30));
  EXPECT_EQ(c->storage.synchronous, SyncMode::kFull);
}

TEST(ConfigLoader, FullExampleLoadsEveryValue) {
  auto c = loadString(fullConfig(), "floorlink.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->mqtt.url, "ssl://broker.dc1:8883");
  EXPECT_EQ(c->mqtt.keepalive, std::chrono::seconds(10));
  EXPECT_EQ(c->mqtt.inflight, 32);
  EXPECT_EQ(c->storage.synchronous, SyncMode::kNormal);
  EXPECT_EQ(c->storage.retention, std::chrono::hours(72));
  ASSERT_EQ(c->devices.size(), 3u);
  const auto& scanner = c->devices[0];
  EXPECT_EQ(scanner.address.scheme, AddressScheme::kSerial);
  EXPECT_EQ(scanner.address.path, "/dev/ttyUSB0");
  EXPECT_EQ(scanner.address.params.at("format"), "7E1");
  EXPECT_EQ(scanner.options.at("suffix").text, "CR");
  EXPECT_EQ(scanner.options.at("beep").text, "3");
  EXPECT_EQ(scanner.options.at("beep").origin.describe(), "floorlink.toml:27: devices[0].options.beep");
  EXPECT_EQ(c->devices[1].address.vendorId, 0x0922);
  EXPECT_EQ(c->devices[1].address.productId, 0x8003);
  EXPECT_EQ(c->devices[1].address.params.at("serial"), "ABC");
  EXPECT_EQ(c->devices[1].protocol, "hid-pos");
  EXPECT_EQ(c->devices[2].address.host, "10.1.2.3");
  EXPECT_EQ(c->devices[2].address.port, 9100);
  EXPECT_EQ(c->devices[2].protocol, "zpl");
  ASSERT_EQ(c->stations.size(), 1u);
  EXPECT_EQ(c->stations[0].kind, StationKind::kPack);
  EXPECT_EQ(c->log.level, LogLevel::kDebug);
  EXPECT_EQ(c->log.modules.at("sync"), LogLevel::kTrace);
  EXPECT_EQ(c->secrets(), std::vector<std::string>{"s3cret"});
}

TEST(ConfigLoader, DefaultConfigTextPassesTheCheck) {
  auto c = loadString(defaultConfigText(), "default");
  ASSERT_TRUE(c.has_value()) << c.error().message;
}

TEST(ConfigLoader, UnknownSchemeNamesFileLineKeyAndChoices) {
  std::string text = std::string(kMinimal) + R"(
[[devices]]
id = "p"
kind = "printer"
address = "tpc://10.1.2.3:9100"
)";
  EXPECT_EQ(errorOf(text),
            "floorlink.toml:9: devices[0].address: unknown scheme \"tpc\", expected serial, tcp, usb, evdev, file, sim, "
            "ipp, ipps or cups");
}

TEST(ConfigLoader, UnknownKeyIsAnErrorWithDidYouMean) {
  std::string text = std::string(kMinimal) + "\n[mqtt]\nurll = \"tcp://x:1\"\n";
  std::string e = errorOf(text);
  EXPECT_NE(e.find("floorlink.toml:7: mqtt.urll: unknown key, did you mean \"url\"?"), std::string::npos) << e;
}

TEST(ConfigLoader, UnknownSectionIsAnError) {
  std::string e = errorOf(std::string(kMinimal) + "\n[mqqt]\nurl = \"tcp://x:1\"\n");
  EXPECT_NE(e.find("mqqt: unknown key, did you mean \"mqtt\"?"), std::string::npos) << e;
}

TEST(ConfigLoader, WrongTypeSaysWhatIsExpected) {
  std::string e = errorOf(std::string(kMinimal) + "\n[mqtt]\nkeepalive_s = \"30\"\n");
  EXPECT_NE(e.find("floorlink.toml:7: mqtt.keepalive_s: expected an integer, found a string"), std::string::npos) << e;
}

TEST(ConfigLoader, OutOfRangeValue) {
  std::string e = errorOf(std::string(kMinimal) + "\n[mqtt]\ninflight = 0\n");
  EXPECT_NE(e.find("mqtt.inflight: expected an integer from 1 to 65535, found 0"), std::string::npos) << e;
}

TEST(ConfigLoader, BadChoiceListsTheChoices) {
  std::string e = errorOf(std::string(kMinimal) + "\n[storage]\nsynchronous = \"fulll\"\n");
  EXPECT_NE(e.find("storage.synchronous: \"fulll\" is not one of full, normal, did you mean \"full\"?"),
            std::string::npos) << e;
}

TEST(ConfigLoader, MissingAgentSection) {
  std::string e = errorOf("[mqtt]\nurl = \"tcp://a:1\"\n");
  EXPECT_NE(e.find("agent: missing [agent] section"), std::string::npos) << e;
}

TEST(ConfigLoader, MissingRequiredKeys) {
  std::string e = errorOf("[agent]\nsite = \"dc1\"\n");
  EXPECT_NE(e.find("agent.id: missing"), std::string::npos) << e;
}

TEST(ConfigLoader, InvalidIds) {
  std::string e = errorOf("[agent]\nsite = \"dc 1\"\nid = \"pc7\"\n");
  EXPECT_NE(e.find("floorlink.toml:2: agent.site: \"dc 1\" is not a valid id"), std::string::npos) << e;
}

TEST(ConfigLoader, BadMqttUrl) {
  std::string e = errorOf(std::string(kMinimal) + "\n[mqtt]\nurl = \"http://broker:1883\"\n");
  EXPECT_NE(e.find("mqtt.url: \"http://broker:1883\" must start with tcp:// or ssl://"), std::string::npos) << e;
}

TEST(ConfigLoader, UrlIsTheOneElementFormOfUrls) {
  auto c = loadString(std::string(kMinimal) + "\n[mqtt]\nurl = \"tcp://mq1:1883\"\n", "floorlink.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->mqtt.urls, std::vector<std::string>{"tcp://mq1:1883"});
  EXPECT_EQ(c->mqtt.urlOrder, "ordered");
  auto d = loadString(kMinimal, "floorlink.toml");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->mqtt.urls, std::vector<std::string>{"tcp://127.0.0.1:1883"});
}

TEST(ConfigLoader, UrlsListTheNodesOfACluster) {
  auto c = loadString(std::string(kMinimal) +
                          "\n[mqtt]\nurls = [\"ssl://mq1:8883\", \"ssl://mq2:8883\", \"ssl://mq3:8883\"]\n"
                          "url_order = \"shuffle\"\n",
                      "floorlink.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->mqtt.urls.size(), 3u);
  EXPECT_EQ(c->mqtt.url, "ssl://mq1:8883");
  EXPECT_EQ(c->mqtt.urlOrder, "shuffle");
  EXPECT_EQ(c->mqtt.brokerUrls(), c->mqtt.urls);
}

TEST(ConfigLoader, UrlAndUrlsTogetherIsAnError) {
  std::string e = errorOf(std::string(kMinimal) + "\n[mqtt]\nurl = \"tcp://a:1883\"\nurls = [\"tcp://b:1883\"]\n");
  EXPECT_NE(e.find("floorlink.toml:8: mqtt.urls: set either mqtt.url or mqtt.urls, not both"), std::string::npos) << e;
}

TEST(ConfigLoader, BadUrlsNameTheElement) {
  std::string e = errorOf(std::string(kMinimal) + "\n[mqtt]\nurls = [\"tcp://a:1883\",\n  \"http://b:1883\", 7, \"tcp://a:1883\"]\n");
  EXPECT_NE(e.find("floorlink.toml:8: mqtt.urls[1]: \"http://b:1883\" must start with tcp:// or ssl://"),
            std::string::npos) << e;
  EXPECT_NE(e.find("mqtt.urls[2]: expected a URL string, found an integer"), std::string::npos) << e;
  EXPECT_NE(e.find("mqtt.urls[3]: \"tcp://a:1883\" is listed twice"), std::string::npos) << e;
  EXPECT_NE(errorOf(std::string(kMinimal) + "\n[mqtt]\nurls = []\n").find("mqtt.urls: needs at least one URL"),
            std::string::npos);
  EXPECT_NE(errorOf(std::string(kMinimal) + "\n[mqtt]\nurls = \"tcp://a:1883\"\n").find("mqtt.urls: expected an array"),
            std::string::npos);
  EXPECT_NE(errorOf(std::string(kMinimal) + "\n[mqtt]\nurls = [\"tcp://a:1883\", \"ssl://b:8883\"]\n")
                .find("mqtt.urls[1]: mixes tcp:// and ssl://"),
            std::string::npos);
  EXPECT_NE(errorOf(std::string(kMinimal) + "\n[mqtt]\nurl_order = \"random\"\n").find("mqtt.url_order"),
            std::string::npos);
}

TEST(ConfigOverrides, SetUrlsOnTheCommandLine) {
  auto c = loadString(kMinimal, "floorlink.toml", {R"(mqtt.urls=["tcp://a:1883","tcp://b:1883"])"});
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->mqtt.urls.size(), 2u);
}

TEST(ConfigLoader, NotTomlAtAll) {
  std::string e = errorOf("[agent\nsite=");
  EXPECT_NE(e.find("floorlink.toml:1: not valid TOML"), std::string::npos) << e;
}

TEST(ConfigLoader, DuplicateDeviceIds) {
  std::string text = std::string(kMinimal) + R"(
[[devices]]
id = "s1"
kind = "scanner"
address = "tcp://127.0.0.1:7000"
[[devices]]
id = "s1"
kind = "scanner"
address = "tcp://127.0.0.1:7001"
)";
  std::string e = errorOf(text);
  EXPECT_NE(e.find("floorlink.toml:11: devices[1].id: \"s1\" is used by an earlier device"), std::string::npos) << e;
}

TEST(ConfigLoader, StationReferencesAreChecked) {
  std::string text = std::string(kMinimal) + R"(
[[devices]]
id = "scanner1"
kind = "scanner"
address = "tcp://127.0.0.1:7000"
[[stations]]
id = "pick1"
kind = "pick"
scanner = "scaner1"
scale = "scanner1"
doc_printer = "scanner1"
)";
  std::string e = errorOf(text);
  EXPECT_NE(e.find("stations[0].scanner: no device with id \"scaner1\", did you mean \"scanner1\"?"), std::string::npos) << e;
  EXPECT_NE(e.find("stations[0].scale: device \"scanner1\" is a scanner, not a scale"), std::string::npos) << e;
  EXPECT_NE(e.find("floorlink.toml:15: stations[0].doc_printer: device \"scanner1\" is a scanner, not a docprinter"),
            std::string::npos) << e;
}

TEST(ConfigLoader, PackStationNeedsScaleAndPrinter) {
  std::string e = errorOf(std::string(kMinimal) + "\n[[stations]]\nid = \"pack1\"\nkind = \"pack\"\n");
  EXPECT_NE(e.find("stations[0].scale: a pack station needs a scale"), std::string::npos) << e;
  EXPECT_NE(e.find("stations[0].printer: a pack station needs a printer"), std::string::npos) << e;
}

TEST(ConfigLoader, AllProblemsAreReportedAtOnce) {
  std::string e = errorOf("[agent]\nsite = \"dc1\"\nid = \"pc7\"\nbogus = 1\n[mqtt]\ninflight = -1\n");
  EXPECT_NE(e.find("agent.bogus"), std::string::npos);
  EXPECT_NE(e.find("mqtt.inflight"), std::string::npos);
}

TEST(ConfigLoader, HttpOffLoopbackNeedsAToken) {
  std::string e = errorOf(std::string(kMinimal) + "\n[http]\nenabled = true\nbind = \"0.0.0.0\"\n");
  EXPECT_NE(e.find("http.token: required when http.bind is not a loopback address"), std::string::npos) << e;
  // The same loopback rule as the server's: all of 127.0.0.0/8 needs none.
  for (const char* bind : {"127.0.0.2", "::1", "localhost"}) {
    auto c = loadString(std::string(kMinimal) + "\n[http]\nenabled = true\nbind = \"" + bind + "\"\n", "f.toml", {});
    EXPECT_TRUE(c.has_value()) << bind << ": " << (c ? "" : c.error().message);
  }
}

TEST(ConfigOverrides, SetReplacesValuesWithTypes) {
  auto c = loadString(fullConfig(), "floorlink.toml",
                      {"mqtt.url=tcp://127.0.0.1:1999", "mqtt.ca_file=", "mqtt.cert_file=", "mqtt.key_file=", "mqtt.inflight=8", "mqtt.verify_server=false",
                       "agent.id=123", "devices[0].options.suffix=LF", "log.modules.agent=warn"});
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->mqtt.url, "tcp://127.0.0.1:1999");
  EXPECT_EQ(c->mqtt.inflight, 8);
  EXPECT_FALSE(c->mqtt.verifyServer);
  EXPECT_EQ(c->agent.id, "123");
  EXPECT_EQ(c->devices[0].options.at("suffix").text, "LF");
  EXPECT_EQ(c->log.modules.at("agent"), LogLevel::kWarn);
}

TEST(ConfigOverrides, SetCreatesMissingSections) {
  auto c = loadString(kMinimal, "floorlink.toml", {"control.socket=/tmp/x.sock", "storage.synchronous=normal"});
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->control.socket, "/tmp/x.sock");
  EXPECT_EQ(c->storage.synchronous, SyncMode::kNormal);
}

TEST(ConfigOverrides, BadOverridesAreClearErrors) {
  EXPECT_NE(errorOf(kMinimal, {"novalue"}).find("expected key.path=value"), std::string::npos);
  EXPECT_NE(errorOf(kMinimal, {"devices[3].id=x"}).find("there is no devices[3] table"), std::string::npos);
  EXPECT_NE(errorOf(kMinimal, {"mqtt.inflight=lots"}).find("mqtt.inflight: expected an integer, found a string"),
            std::string::npos);
  EXPECT_NE(errorOf(kMinimal, {"mqtt.bogus=1"}).find("mqtt.bogus: unknown key"), std::string::npos);
}

TEST(ConfigLoader, LoadFileReportsMissingFile) {
  auto c = loadFile("/nonexistent/floorlink.toml");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::kNotFound);
  EXPECT_NE(c.error().message.find("/nonexistent/floorlink.toml: cannot read"), std::string::npos);
}

TEST(ConfigLoader, LoadFileUsesThePathInErrors) {
  auto path = std::filesystem::temp_directory_path() / "floorlink-config-test.toml";
  std::ofstream(path) << "[agent]\nsite = \"dc1\"\nid = \"pc7\"\nsitee = 1\n";
  auto c = loadFile(path);
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find(path.string() + ":4: agent.sitee: unknown key, did you mean \"site\"?"),
            std::string::npos) << c.error().message;
  std::filesystem::remove(path);
}

struct AddressCase {
  const char* text;
  bool ok;
  const char* expect;  // error fragment, or scheme name
};

class AddressTest : public ::testing::TestWithParam<AddressCase> {};

TEST_P(AddressTest, Parses) {
  auto c = GetParam();
  auto a = parseAddress(c.text);
  ASSERT_EQ(a.has_value(), c.ok) << c.text << ": " << (a ? "" : a.error().message);
  if (a) {
    EXPECT_EQ(toString(a->scheme), c.expect);
  } else {
    EXPECT_NE(a.error().message.find(c.expect), std::string::npos) << a.error().message;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Addresses, AddressTest,
    ::testing::Values(AddressCase{"serial:/dev/ttyUSB0", true, "serial"},
                      AddressCase{"serial:/dev/serial/by-id/usb-X-if00?baud=9600&format=8N1", true, "serial"},
                      AddressCase{"tcp://10.1.2.3:9100", true, "tcp"},
                      AddressCase{"usb://0922:8003", true, "usb"},
                      AddressCase{"evdev:/dev/input/by-id/kbd", true, "evdev"},
                      AddressCase{"file:/tmp/labels.zpl", true, "file"},
                      AddressCase{"sim:scale", true, "sim"},
                      AddressCase{"ttyUSB0", false, "has no scheme"},
                      AddressCase{"serial:dev/ttyUSB0", false, "must be absolute"},
                      AddressCase{"tcp://host", false, "needs host:port"},
                      AddressCase{"tcp://host:99999", false, "from 1 to 65535"},
                      AddressCase{"tcp:host:9100", false, "tcp://host:port"},
                      AddressCase{"usb://zz:8003", false, "bad USB vendor id"},
                      AddressCase{"usb://0922", false, "usb://VVVV:PPPP"},
                      AddressCase{"serial:/dev/ttyUSB0?baud", false, "key=value"},
                      AddressCase{"ipp://10.1.2.40:631/ipp/print", true, "ipp"},
                      AddressCase{"ipps://printer.dc1:443/ipp/print", true, "ipps"},
                      AddressCase{"ipp://[fe80::1]:631/ipp/print", true, "ipp"},
                      AddressCase{"cups:PackSlips", true, "cups"},
                      AddressCase{"cups:Pack_Slips-2.dc1", true, "cups"},
                      AddressCase{"ipp:10.1.2.40:631/ipp/print", false, "ipp://10.1.2.40:631/ipp/print"},
                      AddressCase{"ipp://10.1.2.40/ipp/print", false, "needs host:port"},
                      AddressCase{"ipp://10.1.2.40:/ipp/print", false, "from 1 to 65535"},
                      AddressCase{"ipps://10.1.2.40:70000/ipp/print", false, "from 1 to 65535"},
                      AddressCase{"ipp://:631/ipp/print", false, "needs a host"},
                      AddressCase{"ipp://10.1.2.40:631", false, "needs the printer's resource path"},
                      AddressCase{"ipp://10.1.2.40:631/", false, "needs the printer's resource path"},
                      AddressCase{"ipp://10.1.2.40:631/ipp print", false, "may not contain spaces"},
                      AddressCase{"ipp://10.1.2.40:631/ipp/print?x=1", false, "takes no ?parameters"},
                      AddressCase{"ipp://bob@10.1.2.40:631/ipp/print", false, "user name"},
                      AddressCase{"ipp://[fe80::1:631/ipp/print", false, "closing ']'"},
                      AddressCase{"ipp://[fe80::1]/ipp/print", false, "needs host:port"},
                      AddressCase{"cups:", false, "needs the queue name"},
                      AddressCase{"cups://localhost/PackSlips", false, "not cups://"},
                      AddressCase{"cups:Pack Slips", false, "may not contain spaces"},
                      AddressCase{"cups:a/b", false, "may not contain"},
                      AddressCase{"cups:Q?server=x", false, "takes no ?parameters"},
                      AddressCase{"lpd://10.1.2.40/queue", false, "ipp, ipps or cups"}));

TEST(ConfigLoader, AddressPartsOfDocumentPrinters) {
  auto a = parseAddress("ipps://printer.dc1:8443/ipp/print");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->scheme, AddressScheme::kIpps);
  EXPECT_EQ(a->host, "printer.dc1");
  EXPECT_EQ(a->port, 8443);
  EXPECT_EQ(a->path, "/ipp/print");
  auto v6 = parseAddress("ipp://[::1]:631/printers/Q");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->path, "/printers/Q");
  auto q = parseAddress("cups:PackSlips");
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->path, "PackSlips");
}

constexpr const char* kDocPrinter = R"(
[[devices]]
id = "docs1"
kind = "docprinter"
address = "ipps://printer.dc1:631/ipp/print"
[devices.options]
verify_tls = false
busy_retry_max_s = 600
poll_ms = 2000
timeout_ms = 4000
lost_s = 30

[[devices]]
id = "docs2"
kind = "docprinter"
address = "cups:PackSlips"
[devices.options]
server = "127.0.0.1:6310"

[[devices]]
id = "docs3"
kind = "docprinter"
address = "ipp://10.1.2.41:631/ipp/print"

[[stations]]
id = "ship1"
kind = "ship"
doc_printer = "docs1"
)";

TEST(ConfigLoader, DocumentPrintersAndTheirOptions) {
  auto c = loadString(std::string(kMinimal) + kDocPrinter, "floorlink.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  const DeviceConfig* d1 = c->device("docs1");
  ASSERT_NE(d1, nullptr);
  EXPECT_EQ(d1->kind, DeviceKind::kDocPrinter);
  EXPECT_EQ(toString(d1->kind), "docprinter");
  EXPECT_EQ(d1->protocol, "ipp");
  EXPECT_FALSE(d1->docPrinter.verifyTls);
  EXPECT_EQ(d1->docPrinter.busyRetryMax, std::chrono::seconds(600));
  EXPECT_EQ(d1->docPrinter.pollInterval, std::chrono::milliseconds(2000));
  EXPECT_EQ(d1->docPrinter.requestTimeout, std::chrono::milliseconds(4000));
  EXPECT_EQ(d1->docPrinter.lostTimeout, std::chrono::seconds(30));
  EXPECT_EQ(c->device("docs2")->docPrinter.cupsServer, "127.0.0.1:6310");
  // Defaults: verification on, a busy printer retried for the job expiry.
  const DeviceConfig* d3 = c->device("docs3");
  EXPECT_TRUE(d3->docPrinter.verifyTls);
  EXPECT_EQ(d3->docPrinter.busyRetryMax, std::chrono::hours(24));
  EXPECT_EQ(d3->docPrinter.cupsServer, "");
  EXPECT_EQ(c->station("ship1")->docPrinter, "docs1");
}

TEST(ConfigLoader, DocumentPrinterMistakesNameFileLineAndKey) {
  std::string base = std::string(kMinimal) + kDocPrinter;
  auto has = [](const std::string& e, const std::string& what) {
    EXPECT_NE(e.find(what), std::string::npos) << "want: " << what << "\n got: " << e;
  };
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string text = base;
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  // kMinimal ends on line 4, so docs1's address is on line 9.
  const std::string address = "ipps://printer.dc1:631/ipp/print";
  has(errorOf(replaced(address, "tcp://10.1.2.40:9100")),
      "floorlink.toml:9: devices[0].address: a docprinter is addressed as ipp://");
  has(errorOf(replaced(address, "ipp://printer.dc1/ipp/print")),
      "floorlink.toml:9: devices[0].address: ipp address \"ipp://printer.dc1/ipp/print\" needs host:port");
  has(errorOf(replaced("verify_tls = false", "verify_tls = \"no\"")),
      "floorlink.toml:11: devices[0].options.verify_tls: expected true or false");
  has(errorOf(base, {"devices[1].address=cups:"}), "devices[1].address: cups address needs the queue name");
  has(errorOf(base, {"devices[0].kind=printer"}),
      "devices[0].address: ipps: addresses are for kind = \"docprinter\" (documents), not a printer");
  has(errorOf(base, {"devices[2].options.verify_tls=false"}),
      "devices[2].options.verify_tls: is set but the address is not ipps://");
  has(errorOf(base, {"devices[0].options.verify_tls=true", "devices[0].options.ca_file=/nonexistent/ca.pem"}),
      "devices[0].options.ca_file: \"/nonexistent/ca.pem\" does not exist");
  has(errorOf(base, {"devices[2].options.server=127.0.0.1:631"}),
      "devices[2].options.server: is set but the address is not cups:QUEUE");
  has(errorOf(base, {"devices[1].options.server=localhost"}),
      "devices[1].options.server: \"localhost\" must be host:port");
  has(errorOf(base, {"devices[0].options.busy_retry_max_s=0"}), "devices[0].options.busy_retry_max_s: expected an integer from 1");
  has(errorOf(base, {"devices[0].options.verify_tsl=false"}),
      "devices[0].options.verify_tsl: unknown key, did you mean \"verify_tls\"?");
  has(errorOf(base, {"devices[0].protocol=zpl"}), "devices[0].protocol: \"zpl\" is not one of ipp");
  has(errorOf(base, {"stations[0].doc_printer=docs9"}), "stations[0].doc_printer: no device with id \"docs9\"");
}

TEST(ConfigLoader, VerifiedIppsMayNameItsCa) {
  std::string dir = ::testing::TempDir() + "floorlink-loader-docca";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/ca.pem") << "x\n";
  auto c = loadString(std::string(kMinimal) + kDocPrinter, "floorlink.toml",
                      {"devices[0].options.verify_tls=true", "devices[0].options.ca_file=" + dir + "/ca.pem"});
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->device("docs1")->docPrinter.caFile, dir + "/ca.pem");
  EXPECT_NE(errorOf(std::string(kMinimal) + kDocPrinter, {"devices[0].options.ca_file=" + dir + "/ca.pem"})
                .find("devices[0].options.ca_file: is set but verify_tls = false"),
            std::string::npos);
}


TEST(ConfigLoader, TlsFilesMustExistAndGoWithSsl) {
  std::string text = fullConfig();
  auto err = errorOf(text, {"mqtt.ca_file=/nonexistent/ca.pem"});
  EXPECT_NE(err.find("mqtt.ca_file"), std::string::npos) << err;
  EXPECT_NE(err.find("/nonexistent/ca.pem\" does not exist"), std::string::npos) << err;
  err = errorOf(text, {"mqtt.url=tcp://127.0.0.1:1883", "mqtt.cert_file=", "mqtt.key_file="});
  EXPECT_NE(err.find("mqtt.ca_file"), std::string::npos) << err;
  EXPECT_NE(err.find("not ssl://"), std::string::npos) << err;
}

// The checks Sync::create used to repeat with other limits now live here only.
TEST(ConfigLoader, RejectsWhatSyncCannotUseWithClearErrors) {
  std::string base = std::string(kMinimal) + "[mqtt]\nurl = \"tcp://127.0.0.1:1883\"\n";
  EXPECT_NE(errorOf(base, {"agent.site=dc 1"}).find("agent.site"), std::string::npos);
  EXPECT_NE(errorOf(base, {"mqtt.url=http://127.0.0.1:1883"}).find("tcp:// or ssl://"), std::string::npos);
  EXPECT_NE(errorOf(base, {"mqtt.protocol=4"}).find("mqtt.protocol"), std::string::npos);
  EXPECT_NE(errorOf(base, {"mqtt.inflight=0"}).find("mqtt.inflight"), std::string::npos);
  EXPECT_NE(errorOf(base, {"mqtt.backoff_min_ms=5000", "mqtt.backoff_max_ms=1000"}).find("backoff"),
            std::string::npos);
}

}  // namespace
}  // namespace floorlink::config
