"""NLP over stored mail: signature -> contact extraction and activity extraction (issue 6).

Modules (import them directly; this package imports nothing heavy):

* `signature`: the signature line classifier (Carvalho & Cohen style, JSON coefficients);
* `contacts`: signature lines -> name, title, company, phones (E.164), emails, websites, address, social;
* `timeparse`: date/time mentions resolved against the message date in the sender's offset;
* `activities`: meetings, calls and tasks in the new text;
* `extract`: all of the above for one email (what the pipeline stage and `intel predict` run);
* `sigdata`, `train_signature`, `evaluate_activities`, `evaluation`: training data, training,
  measurement and model cards.
"""
