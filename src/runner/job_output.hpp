#pragma once
// Where a local run's output goes: the child's bytes are decoded into events; each event goes to
// the event handler and (unless it says no) to ART/job_events; the display text goes to the
// console and ART/stdout (ART/stderr for the child's stderr in subprocess mode).

#include <functional>
#include <optional>

#include "artifacts/artifact_dir.hpp"
#include "events/async_file_writer.hpp"
#include "events/event_decoder.hpp"
#include "events/job_event_writer.hpp"
#include "exec/supervisor.hpp"

namespace arunner::runner {

/// Called with each complete event before it is written; false means "do not write the file".
using EventHandler = std::function<bool(nlohmann::ordered_json& event)>;

/// The supervisor's sink for one local run.
class JobOutput : public exec::OutputSink {
  public:
    JobOutput(artifacts::ArtifactDir& dir, int console_fd, const events::DecoderOptions& options,
              EventHandler handler,
              std::function<void(const std::filesystem::path&)> on_written = {});

    void on_output(OutputStream stream, std::string_view bytes) override;
    /// Flushes both decoders at the end of the output and waits for every event file.
    void finish();
    /// Writes text as if the child had printed it (e.g. "command not found").
    void inject(std::string_view text) { on_output(OutputStream::out, text); }

    /// The exit code of the exit frame in the output, once one came.
    std::optional<int> exit_status() const override { return exit_status_; }

    /// The first failure to write an artifact, if any.
    const std::optional<Error>& write_error() const { return write_error_; }

  private:
    class StreamListener : public events::DecoderListener {
      public:
        StreamListener(JobOutput& owner, OutputStream stream) : owner_(owner), stream_(stream) {}
        void on_event(nlohmann::ordered_json& event) override;
        void on_display(std::string_view text) override;
        void on_exit(int code) override { owner_.exit_status_ = code; }

      private:
        JobOutput& owner_;
        OutputStream stream_;
    };

    void record(const Status& status);

    artifacts::ArtifactDir& dir_;
    int console_fd_;
    EventHandler handler_;
    std::function<void(const std::filesystem::path&)> on_written_;
    std::optional<events::JobEventWriter> writer_;  // used only on background_'s thread
    events::AsyncFileWriter background_{256};
    StreamListener out_listener_;
    StreamListener err_listener_;
    events::EventDecoder out_decoder_;
    events::EventDecoder err_decoder_;
    std::optional<Error> write_error_;
    std::optional<int> exit_status_;
};

}  // namespace arunner::runner
