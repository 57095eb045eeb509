#include "runner/job_output.hpp"

#include "util/files.hpp"

namespace arunner::runner {

JobOutput::JobOutput(artifacts::ArtifactDir& dir, int console_fd,
                     const events::DecoderOptions& options, EventHandler handler,
                     std::function<void(const std::filesystem::path&)> on_written)
    : dir_(dir),
      console_fd_(console_fd),
      handler_(std::move(handler)),
      on_written_(std::move(on_written)),
      out_listener_(*this, OutputStream::out),
      err_listener_(*this, OutputStream::err),
      out_decoder_(options, out_listener_),
      err_decoder_(options, err_listener_) {
    auto writer = events::JobEventWriter::open(dir.fd(), dir.path());
    if (writer) {
        writer_.emplace(std::move(writer.value()));
    } else {
        record(writer.error());
    }
}

void JobOutput::on_output(OutputStream stream, std::string_view bytes) {
    (stream == OutputStream::out ? out_decoder_ : err_decoder_).feed(bytes);
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
    if (!owner_.writer_) {
        return;  // job_events could not be opened: reported once, by the constructor
    }
    auto task = [this, event = std::move(event)]() -> Status {
        // The name is checked before anything is written: an event whose counter or uuid
        // cannot name a file is an error, never a file elsewhere.
        ARUNNER_ASSIGN_OR_RETURN(auto name, events::JobEventWriter::file_name(event));
        ARUNNER_TRY(owner_.writer_->write(event));
        if (owner_.on_written_) {
            owner_.on_written_(owner_.writer_->directory() / name);
        }
        return {};
    };
    owner_.record(owner_.background_.push_task(std::move(task)));
}

void JobOutput::StreamListener::on_display(std::string_view text) {
    if (owner_.console_fd_ >= 0 && !util::write_all(owner_.console_fd_, text)) {
        owner_.console_fd_ = -1;  // the console went away (EPIPE): the job and its files go on
    }
    owner_.record(stream_ == OutputStream::out ? owner_.dir_.append_stdout(text)
                                               : owner_.dir_.append_stderr(text));
}

}  // namespace arunner::runner
