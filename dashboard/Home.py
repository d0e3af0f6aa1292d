"""instdet dashboard: the entry file only routes."""

import streamlit as st

st.set_page_config(page_title="instdet", page_icon=":material/music_note:", layout="wide")

pages = [
    st.Page("views/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("views/dataset.py", title="Dataset", icon=":material/bar_chart:"),
    st.Page("views/models.py", title="Models", icon=":material/show_chart:"),
    st.Page("views/tracks.py", title="Tracks", icon=":material/view_timeline:"),
    st.Page("views/confusions.py", title="Confusions", icon=":material/compare_arrows:"),
    st.Page("views/postprocess.py", title="Post-processing", icon=":material/tune:"),
    st.Page("views/realcase.py", title="Real case", icon=":material/headphones:"),
]
st.navigation(pages).run()
