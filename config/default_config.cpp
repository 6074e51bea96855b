#include "config/loader.h"

namespace floorlink::config {

// Keep in step with docs/configuration.md; a test loads this text.
std::string defaultConfigText() {
  return R"toml(# floorlink.toml: configuration of the floorlink warehouse edge agent.
# Check a file with:  floorlink --check-config /etc/floorlink/floorlink.toml
# Override any key:    floorlink --config FILE --set mqtt.url=tcp://10.0.0.5:1883

[agent]
site = "dc1"                     # warehouse id: A-Z a-z 0-9 _ - (1 to 64)
id = "pc7"                       # this PC's id, unique within the site
data_dir = "/var/lib/floorlink"  # task database and journals live here

[mqtt]
url = "tcp://127.0.0.1:1883"     # tcp://host:port or ssl://host:port
# urls = ["ssl://mq1.dc1:8883", "ssl://mq2.dc1:8883", "ssl://mq3.dc1:8883"]  # a broker cluster, instead of url
# url_order = "ordered"          # "ordered": try urls as listed; "shuffle": a stable order per agent, spreads a fleet
# client_id = "dc1-pc7"          # default: {site}-{agent id}
# username = "pc7"
# password = "secret"            # never logged or published
# ca_file = "/etc/floorlink/ca.pem"       # ssl://: CA that signed the broker certificate
# cert_file = "/etc/floorlink/client.pem" # client certificate (with key_file)
# key_file = "/etc/floorlink/client.key"
# key_password = ""
verify_server = true             # ssl://: check the broker certificate and host name
protocol = "auto"                # auto (MQTT 5, else 3.1.1), "3.1.1" or "5"
keepalive_s = 30                 # a silent broker is declared gone after 1.5x this
connect_timeout_s = 10
backoff_min_ms = 500             # reconnect delay doubles from min to max, with jitter
backoff_max_ms = 30000
ack_timeout_s = 30               # resend unacknowledged events after this (C-A2)
state_interval_s = 60            # republish the state topic at least this often (C-P2)
max_payload_bytes = 16777216     # 16 MiB (contract §1): a 50,000-task wave; larger commands are rejected as invalid; the broker must allow it (docs/protocol.md)
inflight = 64                    # events published and not yet acknowledged by the broker

[storage]
synchronous = "full"             # "full": every step survives power loss; "normal": faster, may lose the last steps on power loss
busy_timeout_ms = 5000
retention_days = 7               # acknowledged events are pruned after this (C-A4)

[control]
socket = "/run/floorlink/control.sock"  # floorlinkctl talks to the agent here
# group = "floorlink"            # group allowed to use floorlinkctl

[labels]
templates_dir = "/etc/floorlink/labels"
# gs1_company_prefix = "0950600"  # needed to generate SSCCs
extension_digit = 0
job_expiry_hours = 24            # unconfirmed print jobs expire after this

[http]
enabled = false                  # station screen and technician page
bind = "127.0.0.1"
port = 8080
# token = "..."                  # required when bind is not a loopback address

[log]
level = "info"                   # trace, debug, info, warn, error, critical, off
target = "auto"                  # auto (journal under systemd), stderr or journal
[log.modules]
# sync = "debug"                 # per-module levels: core, config, drivers, printers, sync, agent, store

# Devices: one [[devices]] table each. Addresses:
#   serial:/dev/serial/by-id/usb-...?baud=9600&format=8N1
#   tcp://10.1.2.3:9100   usb://0922:8003?serial=ABC   evdev:/dev/input/by-id/...-event-kbd
#   file:/var/lib/floorlink/labels.zpl (printer sink)
#   document printers: ipp://10.1.2.40:631/ipp/print   ipps://...   cups:QUEUE
#
# [[devices]]
# id = "scanner1"
# kind = "scanner"               # scanner, scale, printer (labels) or docprinter (documents)
# address = "tcp://127.0.0.1:7001"
# protocol = "generic"
# [devices.options]
# suffix = "CR"
#
# [[devices]]
# id = "scale1"
# kind = "scale"
# address = "serial:/dev/serial/by-id/usb-FTDI_scale-if00-port0?baud=9600&format=8N1"
# protocol = "mt-sics"
#
# [[devices]]
# id = "printer1"
# kind = "printer"
# address = "tcp://10.1.2.3:9100"
# protocol = "zpl"
#
# [[devices]]
# id = "docs1"
# kind = "docprinter"            # packing slips and invoices (PDF) over IPP
# address = "ipps://10.1.2.40:631/ipp/print"   # or cups:QUEUE for a printer that needs conversion
# [devices.options]
# verify_tls = true              # ipps: the printer's certificate must be trusted
# busy_retry_max_s = 86400       # a busy printer is retried this long

# Stations: one [[stations]] table each; they name their devices by id.
# [[stations]]
# id = "pack1"
# kind = "pack"                  # pick, pack or ship
# scanner = "scanner1"
# scale = "scale1"
# printer = "printer1"
# doc_printer = "docs1"          # optional: where this station's documents print
)toml";
}

}  // namespace floorlink::config
