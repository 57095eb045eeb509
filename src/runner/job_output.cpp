#include "runner/job_output.hpp"

#include "util/files.hpp"

namespace arunner::runner {

JobOutput::JobOutput(artifacts::ArtifactDir& dir, int console_fd, events::DecoderOptions options,
                     EventHandler handler,
                     std::function<void(const std::filesystem::path&)> on_written)
    : dir_(dir),
      console_fd_(console_fd),
      handler_(std::move(handler)),
      on_written_(std::move(on_written)),
      writer_(dir.job_events_dir()),
      out_listener_(*this, exec::Stream::out),
      err_listener_(*this, exec::Stream::err),
      out_decoder_(options, out_listener_),
      err_decoder_(options, err_listener_) {}

void JobOutput::on_output(exec::Stream stream, std::string_view bytes) {
    (stream == exec::Stream::out ? out_decoder_ : err_decoder_).feed(bytes);
}

void JobOutput::finish() {
    out_decoder_.finish();
    err_decoder_.finish();
    record(background_.finish());
}

void JobOutput::record(const Status& status) {
    if (!status && !write_error_) {
        write_error_ = status.error();
    }
}

void JobOutput::StreamListener::on_event(nlohmann::ordered_json& event) {
    bool write = owner_.handler_ ? owner_.handler_(event) : true;
    if (!write) {
        return;
    }
    // The file is written on the writer thread: turning a large event into Python JSON and
    // writing it then overlaps the child's next output instead of holding up the read loop.
    auto task = [this, event = std::move(event)]() -> Status {
        ARUNNER_TRY(owner_.writer_.write(event));
        if (owner_.on_written_) {
            owner_.on_written_(owner_.writer_.directory() /
                               events::JobEventWriter::file_name(event));
        }
        return {};
    };
    owner_.record(owner_.background_.push_task(std::move(task)));
}

void JobOutput::StreamListener::on_display(std::string_view text) {
    if (owner_.console_fd_ >= 0 && !util::write_all(owner_.console_fd_, text)) {
        owner_.console_fd_ = -1;  // the console went away (EPIPE): the job and its files go on
    }
    owner_.record(stream_ == exec::Stream::out ? owner_.dir_.append_stdout(text)
                                               : owner_.dir_.append_stderr(text));
}

}  // namespace arunner::runner
