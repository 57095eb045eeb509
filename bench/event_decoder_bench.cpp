// Decoder throughput in MB/s: a realistic event stream (a begin frame with a ~1 KB event dict, a
// line of text, an end frame) and plain verbose text, fed in 64 KiB chunks as the supervisor
// reads them.

#include <benchmark/benchmark.h>

#include "events/event_decoder.hpp"

namespace {

const std::string kSecret = arunner::events::new_frame_secret();

class CountingListener : public arunner::events::DecoderListener {
  public:
    void on_event(nlohmann::ordered_json&) override { ++events; }
    void on_display(std::string_view text) override { bytes += text.size(); }
    size_t events = 0;
    size_t bytes = 0;
};

std::string event_stream(size_t events) {
    std::string frame_start = arunner::events::EventDecoder::frame_prefix(kSecret);
    std::string frame_end(arunner::events::EventDecoder::kFrameEnd);
    std::string stream;
    for (size_t i = 0; i < events; ++i) {
        stream += frame_start;
        stream +=
            R"({"event": "runner_item_on_ok", "pid": 4242, "uuid": "0242ac11-0002-1b6f-dbab-)" +
            std::to_string(100000000000 + i) +
            R"(", "created": "2026-11-28T09:49:06.032508+00:00", "parent_uuid": "02fc0000-0001-d1bf-dbab-000000000004", "event_data": {"playbook": "site.yml", "playbook_uuid": "337f339f-a270-42c1-933d-9725facbed52", "play": "bench", "play_uuid": "02fc0000-0001-d1bf-dbab-000000000002", "play_pattern": "all", "task": "loop", "task_uuid": "02fc0000-0001-d1bf-dbab-000000000004", "task_action": "debug", "resolved_action": "ansible.builtin.debug", "task_args": "", "task_path": "/tmp/p/project/site.yml:5", "host": "localhost", "remote_addr": "localhost", "res": {"msg": "item )" +
            std::to_string(i) +
            R"(", "_ansible_verbose_always": true, "_ansible_no_log": false, "changed": false, "item": 1, "ansible_loop_var": "item", "_ansible_item_label": 1}, "uuid": "0242ac11"}})";
        stream += frame_end;
        stream +=
            "\x1b[0;32mok: [localhost] => (item=" + std::to_string(i) +
            ") => {\x1b[0m\r\n\x1b[0;32m    \"msg\": \"item\"\x1b[0m\r\n\x1b[0;32m}\x1b[0m\r\n";
        stream += frame_start + frame_end;
    }
    return stream;
}

void feed_all(benchmark::State& state, const std::string& stream) {
    for (auto _ : state) {
        CountingListener listener;
        arunner::events::EventDecoder decoder({"bench", false, kSecret}, listener);
        for (size_t i = 0; i < stream.size(); i += 65536) {
            decoder.feed(std::string_view(stream).substr(i, 65536));
        }
        decoder.finish();
        benchmark::DoNotOptimize(listener.bytes);
        state.counters["events"] =
            benchmark::Counter(static_cast<double>(listener.events), benchmark::Counter::kIsRate);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
}

void BM_DecodeEvents(benchmark::State& state) {
    feed_all(state, event_stream(2000));
}
BENCHMARK(BM_DecodeEvents)->Unit(benchmark::kMillisecond);

void BM_DecodeEventWithLargeText(benchmark::State& state) {
    std::string frame_start = arunner::events::EventDecoder::frame_prefix(kSecret);
    std::string frame_end(arunner::events::EventDecoder::kFrameEnd);
    std::string text;
    for (int i = 0; i < 20000; ++i) {
        text += std::string(998, 'A') + "\r\n";
    }
    feed_all(state, frame_start + R"({"event": "runner_on_ok", "uuid": "u"})" + frame_end + text +
                        frame_start + frame_end);
}
BENCHMARK(BM_DecodeEventWithLargeText)->Unit(benchmark::kMillisecond);

void BM_DecodeVerboseLines(benchmark::State& state) {
    std::string text;
    for (int i = 0; i < 20000; ++i) {
        text +=
            "<localhost> EXEC /bin/sh -c 'echo ~ && sleep 0' line " + std::to_string(i) + "\r\n";
    }
    feed_all(state, text);
}
BENCHMARK(BM_DecodeVerboseLines)->Unit(benchmark::kMillisecond);

// One newline-free line of state.range(0) MiB: time per byte must not grow with the size.
void BM_DecodeLineWithoutNewline(benchmark::State& state) {
    feed_all(state, std::string(static_cast<size_t>(state.range(0)) << 20, 'x'));
}
BENCHMARK(BM_DecodeLineWithoutNewline)->Arg(16)->Arg(64)->Unit(benchmark::kMillisecond);

}  // namespace
