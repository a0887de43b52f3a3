"""Test doubles, for the tests and the benchmarks only: the app never imports this package.

``fake_server.FakeTwilio`` is Twilio's Messages API over real HTTP on 127.0.0.1 (the real SDK
talks to it through TWILIO_API_BASE), with latency, failures and a rate cap to inject; it answers
through the same ``panel.sms.simulator.TwilioSimulator`` the app uses in simulation mode.
"""
