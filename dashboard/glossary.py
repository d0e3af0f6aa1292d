"""The words the pages use, explained once: tooltips and the Glossary page read from here."""

TERMS: dict[str, str] = {
    "frame": "A 23-ms slice of the song (512 samples at 22,050 Hz). Every model says, for every "
             "frame, which of AAM's 31 instruments play.",
    "F1 micro": "How right the frame-by-frame decisions are over all instruments together: "
                "2 x correct detections / (2 x correct detections + false alarms + misses). "
                "Dominated by the instruments that play most (drums, bass, chords).",
    "F1 macro": "The F1 of each instrument on its own, averaged over the instruments present "
                "in the scored songs: a rare instrument counts as much as the drums. A model "
                "can have a high macro and a low micro on a song where it gets the rare "
                "instruments right but the busy ones wrong, and the other way round.",
    "F1 weighted": "Per-instrument F1 averaged with each instrument's playing time as weight.",
    "Hamming loss": "Share of (frame, instrument) decisions that are wrong. Lower is better; "
                    "small whenever most instruments are silent most of the time.",
    "Jaccard (samples)": "Per frame, instruments both heard and playing divided by "
                         "instruments heard or playing (a silent frame heard as silent counts "
                         "1), averaged over frames.",
    "Segment F1 (1 s)": "F1 on 1-second segments: an instrument counts as playing in a "
                        "segment if it plays in any of its frames (sed_eval's definition). "
                        "Forgives small timing errors.",
    "Segment error rate (1 s)": "Substitutions + deletions + insertions over the number of "
                                "(segment, instrument) pairs that play, on 1-s segments. "
                                "Lower is better; can exceed 1.",
    "mAP": "Mean over instruments of the average precision: how well the probabilities rank "
           "frames where an instrument plays above frames where it does not, whatever the "
           "threshold.",
    "raw": "Threshold 0.5 on every probability, no smoothing.",
    "postprocessed": "Each run's own thresholds per instrument and median filter, chosen on its "
                     "validation songs (release models: by cross-validation), never on the "
                     "songs it is scored on.",
    "real-test": "AAM songs 2462, 2841 and 3000: real songs no model of the sweep trained on, "
                 "chose a checkpoint on, or had its stems remixed or sampled. The seed's MLPs "
                 "never saw them either (they trained on AAM songs 1-1000).",
    "remix-test": "Stem remixes of the training songs held out from training: new mixtures of "
                  "recordings the models know. Easier than real-test.",
    "synth-test": "Songs rendered with a General MIDI SoundFont, held out from training.",
    "sampled-test": "Note-sampler songs held out from training (real AAM notes, new "
                    "arrangements).",
    "cross-validation": "The 12 real songs split into 4 folds of 3; each fold's songs are "
                        "scored by a model trained without them (and without their stems in "
                        "any generated song). Pooled: every song scored once, counts added up; "
                        "the fold range shows how much the number moves with the songs.",
    "run id": "The run's folder name: MODEL-nSONGS-sSEED, e.g. crnn-n150-s0 is a CRNN trained "
              "on 150 songs with seed 0. all- runs also trained on generated songs of a second "
              "kind; seed-mlp- runs are the original project's MLPs; release- runs are the "
              "models to use on your songs.",
    "training songs": "Songs a run trained on: 7 real AAM songs plus generated ones (stem "
                      "remixes, SoundFont or note-sampler songs) for the sweep; real AAM songs "
                      "only for the seed's MLPs.",
    "val_score": "What a run's training maximised on its validation songs: the mean of F1 "
                 "micro and F1 macro at threshold 0.5. It picks the checkpoint that is kept.",
    "remix": "A new song mixed from real AAM stems (2-6 instruments from different songs, "
             "random offsets and gains): new mixtures of the same recordings.",
    "sampled song": "A new song played with real AAM notes cut from the stems: new melodies, "
                    "keys, tempi and pairings of AAM's own instrument sounds.",
    "SoundFont song": "A song composed like AAM's and rendered with a General MIDI SoundFont: "
                      "other instrument timbres than AAM's.",
    "false alarm": "The model says an instrument plays in a frame where it does not.",
    "missed": "An instrument plays in a frame and the model does not say so.",
    "confusion pair": "In a frame, an instrument missed while another is falsely reported: "
                      "'Erhu -> Cello' counts frames where Erhu played unrecognised while "
                      "Cello was reported in its place.",
    "seed": "The number that fixes a run's random choices (initial weights, which crops "
            "and songs it draws). The same command with the same seed gives the same model "
            "on one machine; another seed gives another model, and on 3 test songs its "
            "score can differ by several hundredths.",
    "agreement": "On the real-case page: the share of models hearing an instrument, each "
                 "model weighted by how well it does on real songs it never heard.",
}


def tip(term: str) -> str:
    """Tooltip text for a term (its explanation)."""
    return TERMS[term]
